/** Entry point: one client core, one store, the app. */
import { render } from "solid-js/web";
import { App } from "./app";
import { createRoomzClient } from "./store/client";
import { StoreProvider, createAppStore } from "./store";
import "./styles/base.css";
import "./styles/chat.css";
import "./styles/timeline.css";

const store = createAppStore(createRoomzClient());
render(
  () => (
    <StoreProvider value={store}>
      <App />
    </StoreProvider>
  ),
  document.getElementById("app")!,
);
