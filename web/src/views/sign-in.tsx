/** The sign-in page: ask for an address, then "check your email". */
import { Show, createSignal } from "solid-js";
import type { SignInState } from "../store";

export interface SignInProps {
  state: SignInState;
  onRequest(email: string): void;
  onEdit(): void;
}

export function SignIn(props: SignInProps) {
  const [email, setEmail] = createSignal(props.state.email);
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    props.onRequest(email());
  };
  return (
    <main class="signin" id="main">
      <div class="card">
        <h1 class="brand">Roomz</h1>
        <Show when={props.state.notice}>
          <p class="notice" role="alert" data-testid="signin-notice">
            {props.state.notice}
          </p>
        </Show>
        <Show
          when={props.state.status === "sent" || props.state.status === "resending"}
          fallback={
            <form class="signin-form" onSubmit={submit} aria-describedby="signin-help" novalidate>
              <p id="signin-help">Sign in with your email address. We'll send you a link; no password needed.</p>
              <label for="email">Email address</label>
              <input
                id="email"
                name="email"
                type="email"
                autocomplete="email"
                inputmode="email"
                required
                value={email()}
                onInput={(e) => setEmail(e.currentTarget.value)}
                aria-invalid={props.state.error ? "true" : undefined}
                aria-describedby={props.state.error ? "signin-error" : undefined}
              />
              <Show when={props.state.error}>
                <p class="error" id="signin-error" role="alert">
                  {props.state.error}
                </p>
              </Show>
              <button type="submit" class="primary" disabled={props.state.status === "sending"}>
                {props.state.status === "sending" ? "Sending…" : "Send sign-in link"}
              </button>
            </form>
          }
        >
          <section class="sent" aria-labelledby="sent-title" data-testid="check-email">
            <h2 id="sent-title" tabindex="-1" ref={(el) => queueMicrotask(() => el.focus())}>
              Check your email
            </h2>
            <p>
              We sent a sign-in link to <strong>{props.state.email}</strong> if that address may use this server. Open
              the link on this device to continue. It works for a limited time and only once.
            </p>
            <p class="hint">Nothing arrived after a few minutes? Check your spam folder, or send a new link.</p>
            <div class="row">
              <button type="button" onClick={() => props.onRequest(props.state.email)} disabled={props.state.status === "resending"}>
                {props.state.status === "resending" ? "Sending…" : "Send a new link"}
              </button>
              <button type="button" onClick={() => props.onEdit()}>
                Use a different address
              </button>
            </div>
            <Show when={props.state.error}>
              <p class="error" role="alert">
                {props.state.error}
              </p>
            </Show>
          </section>
        </Show>
      </div>
    </main>
  );
}

export function Loading() {
  return (
    <main class="signin" aria-busy="true">
      <p class="quiet">Loading…</p>
    </main>
  );
}

export function Unreachable(props: { onRetry(): void }) {
  return (
    <main class="signin">
      <div class="card">
        <h1 class="brand">Roomz</h1>
        <p role="alert">Can't reach the Roomz server. Trying again by itself every few seconds; messages you sent while offline go out once it answers.</p>
        <button type="button" class="primary" onClick={() => props.onRetry()}>
          Try now
        </button>
      </div>
    </main>
  );
}
