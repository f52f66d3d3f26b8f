/** Connected, connecting, reconnecting in N s, offline: from the core's connection_state. */
import { createSignal, onCleanup } from "solid-js";
import type { ChatState } from "../store";

export function connectionText(c: ChatState["connection"], now: number): string {
  const wait = c.retryAt ? Math.ceil((c.retryAt - now) / 1000) : 0;
  switch (c.status) {
    case "connected":
      return "Connected";
    case "connecting":
      return "Connecting…";
    case "reconnecting":
      return wait > 0 ? `Reconnecting in ${wait} s` : "Reconnecting…";
    case "offline":
      return wait > 0 ? `Offline, retrying in ${wait} s` : "Offline";
    case "stopped":
      return "Disconnected";
    default:
      return "Not connected";
  }
}

export function ConnectionIndicator(props: { connection: ChatState["connection"] }) {
  const [now, setNow] = createSignal(Date.now());
  const timer = setInterval(() => setNow(Date.now()), 500);
  onCleanup(() => clearInterval(timer));
  return (
    <p class={`indicator ${props.connection.status}`} role="status" data-testid="connection" data-status={props.connection.status}>
      <span class="dot" aria-hidden="true" />
      {connectionText(props.connection, now())}
    </p>
  );
}
