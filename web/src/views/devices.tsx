/** This user's connected devices, and the name of this one. */
import { For, Show, createEffect, createSignal } from "solid-js";
import type { ConnectionInfo } from "../../../src/protocol";
import { connectionLabel, fullTime, shortTime } from "../lib/format";

export interface DevicesProps {
  devices: ConnectionInfo[];
  /** False until the connection is authenticated (the list is not known yet). */
  ready: boolean;
  /** False while this device is not connected: the list is the one last seen, and may be out of date. */
  live: boolean;
  ownId: string | null;
  ownName: string | null;
  nameError: string | null;
  onSetName(name: string | null): void;
}

export function Devices(props: DevicesProps) {
  const [draft, setDraft] = createSignal(props.ownName ?? "");
  createEffect(() => setDraft(props.ownName ?? ""));
  const save = (event: SubmitEvent) => {
    event.preventDefault();
    const name = draft().trim();
    props.onSetName(name ? name : null);
  };
  return (
    <section class="devices" aria-labelledby="devices-title">
      <h2 id="devices-title">
        Your devices{" "}
        <span class="count">{!props.ready ? "(connecting…)" : props.live ? `(${props.devices.length} connected)` : "(unknown while offline)"}</span>
      </h2>
      <ul data-testid="devices" classList={{ stale: props.ready && !props.live }}>
        <For each={props.devices}>
          {(d) => (
            <li classList={{ own: d.connection_id === props.ownId }}>
              <span class="who">{connectionLabel(d.connection_id, d.display_name, d.connection_id === props.ownId)}</span>
              <Show when={d.connection_id === props.ownId && d.display_name}>
                <span class="tag">this device</span>
              </Show>
              <time datetime={d.connected_at} title={`Connected ${fullTime(d.connected_at)}`}>
                since {shortTime(d.connected_at)}
              </time>
            </li>
          )}
        </For>
      </ul>
      <form class="name-form" onSubmit={save}>
        <label for="display-name">Name for this device</label>
        <input
          id="display-name"
          maxlength="50"
          placeholder="e.g. Laptop"
          value={draft()}
          onInput={(e) => setDraft(e.currentTarget.value)}
          aria-describedby={props.nameError ? "name-error" : undefined}
        />
        <div class="row">
          <button type="submit">Save</button>
          <Show when={props.ownName}>
            <button type="button" class="quiet-button" onClick={() => props.onSetName(null)}>
              Clear
            </button>
          </Show>
        </div>
        <Show when={props.nameError}>
          <p class="error" id="name-error" role="alert">
            {props.nameError}
          </p>
        </Show>
      </form>
    </section>
  );
}
