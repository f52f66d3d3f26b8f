/** The container: reads the store, picks the page, hands state and actions to the views. */
import { Match, Switch, createEffect, onCleanup, onMount } from "solid-js";
import { useStore } from "./store";
import { showUnread } from "./lib/unread";
import { Chat } from "./views/chat";
import { Loading, SignIn, Unreachable } from "./views/sign-in";

export function App() {
  const { state, actions, uploads, tokens } = useStore();
  onMount(() => void actions.load());
  // Unread messages of the other devices: in the title and on the favicon.
  createEffect(() => showUnread(state.phase === "chat" ? state.chat.unseen : 0));
  // Coming back to the tab while at the newest message: they are read now.
  const visible = () => actions.atBottom(state.chat.atBottom);
  document.addEventListener("visibilitychange", visible);
  onCleanup(() => document.removeEventListener("visibilitychange", visible));
  return (
    <Switch fallback={<Loading />}>
      <Match when={state.phase === "signed-out"}>
        <SignIn state={state.signIn} onRequest={actions.requestLink} onEdit={actions.editAddress} />
      </Match>
      <Match when={state.phase === "unreachable"}>
        <Unreachable onRetry={() => void actions.load()} />
      </Match>
      <Match when={state.phase === "chat"}>
        <Chat chat={state.chat} actions={actions} uploads={uploads} tokens={tokens} maxMessageLength={state.limits.max_message_length} />
      </Match>
    </Switch>
  );
}
