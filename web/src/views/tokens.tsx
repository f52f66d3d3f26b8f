/**
 * Access tokens for scripts (PROTOCOL.md section 6): a section of the side panel that
 * opens the Tokens page in a modal <dialog> (the browser traps focus; Escape closes).
 * Create (the secret shown once, with Copy and a ready curl line), the list with last
 * use, revoke (after a confirmation).
 */
import { For, Show, createSignal } from "solid-js";
import type { TokenScope } from "../../../src/protocol/tokens";
import type { TokensStore } from "../store/tokens";
import { ConfirmDialog } from "./confirm-dialog";
import "../styles/tokens.css";

const when = (iso: string | null, never: string) => (iso === null ? never : new Date(iso).toLocaleString());

function CopyButton(props: { text: string; label: string }) {
  const [copied, setCopied] = createSignal(false);
  const copy = () => void navigator.clipboard.writeText(props.text).then(() => setCopied(true));
  return (
    <button type="button" onClick={copy} aria-label={copied() ? `${props.label} copied` : `Copy ${props.label}`}>
      {copied() ? "Copied" : "Copy"}
    </button>
  );
}

function CreateForm(props: { tokens: TokensStore }) {
  let name!: HTMLInputElement;
  const [scope, setScope] = createSignal<TokenScope>("send");
  const [days, setDays] = createSignal("365");
  const submit = (e: Event) => {
    e.preventDefault();
    void props.tokens.create(name.value, scope(), days() === "never" ? null : Number(days())).then(() => {
      if (!props.tokens.state.error) name.value = "";
    });
  };
  return (
    <form class="token-create" onSubmit={submit}>
      {/* Labels by `for`, not wrapping: a wrapping label's name would take in the options' text. */}
      <div class="field">
        <label for="token-name">Name</label>
        <input id="token-name" ref={name} required maxLength={50} placeholder="nightly backup" autocomplete="off" />
      </div>
      <div class="field">
        <label for="token-scope">May</label>
        <select id="token-scope" value={scope()} onChange={(e) => setScope(e.currentTarget.value as TokenScope)}>
          <option value="send">post messages (send)</option>
          <option value="read">read messages (read)</option>
          <option value="full">both, and connect (full)</option>
        </select>
      </div>
      <div class="field">
        <label for="token-expires">Expires</label>
        <select id="token-expires" value={days()} onChange={(e) => setDays(e.currentTarget.value)}>
          <option value="30">in 30 days</option>
          <option value="365">in a year</option>
          <option value="never">never</option>
        </select>
      </div>
      <button type="submit" class="primary" disabled={props.tokens.state.busy}>
        Create token
      </button>
    </form>
  );
}

function Created(props: { tokens: TokensStore }) {
  const curl = () => `curl -H "Authorization: Bearer ${props.tokens.state.created!.token}" -d "hello from a script" ${location.origin}/api/messages`;
  return (
    <Show when={props.tokens.state.created}>
      {(created) => (
        <section class="token-created" role="status" aria-labelledby="token-created-title">
          <h3 id="token-created-title">Token “{created().name}” created</h3>
          <p>Copy it now: it is shown only this once.</p>
          <div class="row">
            <input readonly value={created().token} aria-label="The new token" onFocus={(e) => e.currentTarget.select()} />
            <CopyButton text={created().token} label="token" />
          </div>
          <p>Post from any script:</p>
          <div class="row">
            <code data-testid="curl-line">{curl()}</code>
            <CopyButton text={curl()} label="curl line" />
          </div>
          <button type="button" onClick={() => props.tokens.dismissCreated()}>
            Done
          </button>
        </section>
      )}
    </Show>
  );
}

function TokenList(props: { tokens: TokensStore }) {
  const [revoking, setRevoking] = createSignal<{ id: string; name: string } | null>(null);
  return (
    <>
      <Show when={props.tokens.state.list.length > 0} fallback={<p class="quiet">{props.tokens.state.loaded ? "No tokens yet." : "Loading…"}</p>}>
        <table class="token-list">
          <caption class="sr-only">Your access tokens</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Scope</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col"><span class="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            <For each={props.tokens.state.list}>
              {(t) => (
                <tr data-testid="token-row">
                  <th scope="row">{t.name}</th>
                  <td>{t.scope}</td>
                  <td>{when(t.last_used_at, "never")}</td>
                  <td>{when(t.expires_at, "never")}</td>
                  <td>
                    <button type="button" class="danger-outline" onClick={() => setRevoking({ id: t.id, name: t.name })} aria-label={`Revoke ${t.name}`}>
                      Revoke
                    </button>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </Show>
      {/* Mounted only while asked: ConfirmDialog's ids are fixed, and the panel has another. */}
      <Show when={revoking()}>
        {(target) => (
          <ConfirmDialog open title="Revoke this token?" confirmLabel="Revoke" onConfirm={() => void props.tokens.revoke(target().id)} onClose={() => setRevoking(null)}>
            <p>
              Scripts using <strong>{target().name}</strong> stop working at once, and its connections close.
            </p>
          </ConfirmDialog>
        )}
      </Show>
    </>
  );
}

export function TokensSection(props: { tokens: TokensStore }) {
  let dialog!: HTMLDialogElement;
  const open = () => {
    void props.tokens.load();
    dialog.showModal();
  };
  return (
    <section class="tokens" aria-labelledby="tokens-title">
      <h2 id="tokens-title">Scripts and tools</h2>
      <button type="button" onClick={open}>
        Access tokens
      </button>
      <dialog ref={dialog} class="tokens-page" aria-labelledby="tokens-page-title" onClose={() => props.tokens.dismissCreated()}>
        <div class="row tokens-head">
          <h2 id="tokens-page-title">Access tokens</h2>
          <form method="dialog">
            <button type="submit" aria-label="Close access tokens">
              Close
            </button>
          </form>
        </div>
        <p class="quiet">For scripts, cron jobs and other tools: each token is named, scoped and revocable.</p>
        <CreateForm tokens={props.tokens} />
        <Show when={props.tokens.state.error}>
          <p class="error" role="alert">
            {props.tokens.state.error}
          </p>
        </Show>
        <Created tokens={props.tokens} />
        <TokenList tokens={props.tokens} />
      </dialog>
    </section>
  );
}
