/**
 * Connected, connecting, reconnecting, offline: from the core's connection_state. The
 * status region says only the state (announced once per change); the countdown to the
 * next attempt is drawn beside it, hidden from screen readers, so it is not read out
 * every second.
 */
import { Show, createSignal, onCleanup } from "solid-js";
import type { ChatState } from "../store";

export function connectionText(c: ChatState["connection"]): string {
  switch (c.status) {
    case "connected":
      return "Connected";
    case "connecting":
      return "Connecting…";
    case "reconnecting":
      return "Reconnecting";
    case "offline":
      return "Offline";
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
  const wait = () => (props.connection.retryAt ? Math.ceil((props.connection.retryAt - now()) / 1000) : 0);
  return (
    <div class={`indicator ${props.connection.status}`} data-testid="connection" data-status={props.connection.status}>
      <span class="dot" aria-hidden="true" />
      <span role="status" data-testid="connection-status">
        {connectionText(props.connection)}
      </span>
      <Show when={wait() > 0}>
        <span class="countdown" aria-hidden="true">
          {`· ${wait()} s`}
        </span>
      </Show>
    </div>
  );
}
