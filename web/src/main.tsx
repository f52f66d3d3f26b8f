/** Entry point: one client core, one store, the app. */
import { render } from "solid-js/web";
import type { ChatMessage } from "../../src/protocol";
import { App } from "./app";
import { createRoomzClient } from "./store/client";
import { StoreProvider, createAppStore } from "./store";
import { connectionLabel } from "./lib/format";
import { notify } from "./lib/notifications";
import { registerServiceWorker, startWebPush } from "./lib/web-push";
import "./styles/base.css";
import "./styles/chat.css";
import "./styles/timeline.css";
import "./styles/message.css";
import "./styles/markdown.css";
import "./styles/dialog.css";
import "./styles/attachments.css";

const client = createRoomzClient();
registerServiceWorker();
const push = startWebPush(client);
const store = createAppStore(client, {
  // Only messages of the other devices: what this device sent never notifies it. The tag
  // is the one the service worker gives the same message's push, so one replaces the other.
  onForeign: (m) => notify(connectionLabel(m.connection_id, m.user.display_name, false), preview(m), `roomz-${m.seq}`),
  onSignedIn: () => void push.signedIn(),
  beforeLogout: push.beforeLogout,
});
/** A notification's text: the start of the message, or the names of its files. */
function preview(m: ChatMessage): string {
  return m.content ? m.content.slice(0, 200) : (m.files ?? []).map((f) => f.name).join(", ");
}

render(
  () => (
    <StoreProvider value={store}>
      <App />
    </StoreProvider>
  ),
  document.getElementById("app")!,
);
