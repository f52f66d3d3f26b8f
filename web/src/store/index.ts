/**
 * The one store of the web app. It owns the client core (the only thing that talks to
 * the server), turns its events into state, and exposes actions; views only read state
 * and call actions.
 */
import { createContext, useContext } from "solid-js";
import { createStore } from "solid-js/store";
import type { ChatMessage } from "../../../src/protocol";
import { errorInfo, type ChatClient, type StopCode } from "./client-port";
import { createUploads } from "./uploads";
import { createMessageActions } from "./messages";
import { createPresenceActions } from "./presence";
import { createSessionActions } from "./session";
import { initialState } from "./state";
import { createTabSignals } from "./tabs";
import { createTokens } from "./tokens";

export type { AppState, ChatState, Notice, Outgoing, SignInState } from "./state";

/** Stops after which reconnecting can't help: the user must sign in again (or can't). */
const ENDED = new Set<StopCode | undefined>(["session_ended", "signed_out", "not_allowed"]);

export interface StoreHooks {
  /** A message from another device arrived (notifications). */
  onForeign?(message: ChatMessage): void;
  /** The chat started with a confirmed session (Web Push registers this device with it). */
  onSignedIn?(): void;
  /** Before logging out, while the session is valid. */
  beforeLogout?(): Promise<void>;
}

export function createAppStore(client: ChatClient, hooks: StoreHooks = {}) {
  const [state, setState] = createStore(initialState());
  const messages = createMessageActions(state, setState, client, { onForeign: (m) => hooks.onForeign?.(m) });
  const presence = createPresenceActions(state, setState, client);
  const session = createSessionActions(state, setState, client, { onSignedIn: startChat, beforeLogout: hooks.beforeLogout });
  const tabs = createTabSignals(() => state.phase === "signed-out" && void session.load());

  client.on("message", messages.received);
  client.on("reset", () => {
    messages.reset();
    void messages.loadLatest();
  });
  client.on("authenticated", presence.authenticated);
  client.on("user_joined", presence.joined);
  client.on("user_left", presence.left);
  client.on("display_name_changed", presence.renamed);
  client.on("connection_state", (s) => {
    presence.connectionState(s);
    if (s.status === "stopped" && state.phase === "chat" && !session.isLeaving() && ENDED.has(s.stop)) {
      session.signedOut(
        s.stop === "not_allowed"
          ? "This address is no longer allowed on this server."
          : "Your session ended. Sign in again to continue.",
      );
    }
  });

  async function startChat(email: string) {
    setState("phase", "chat");
    setState("chat", { email, banner: null });
    tabs.signedIn();
    hooks.onSignedIn?.();
    messages.restore();
    try {
      await client.connect();
      if (!state.chat.history.loaded) await messages.loadLatest();
    } catch (error) {
      const info = errorInfo(error);
      if (info.code === "unauthenticated" || info.code === "session_ended" || info.status === 401) {
        session.signedOut("Your session ended. Sign in again to continue.");
      } else if (info.code === "not_allowed") {
        session.signedOut("This address is no longer allowed on this server.");
      } else {
        setState("chat", { banner: `Couldn't connect: ${info.message}`, bannerRetry: true });
      }
    }
  }

  const actions = {
    load: session.load,
    requestLink: session.requestLink,
    editAddress: session.editAddress,
    logout: () => session.logout(false),
    logoutAll: () => session.logout(true),
    reconnect: () => startChat(state.chat.email),
    send: messages.send,
    retry: messages.retry,
    discard: messages.discard,
    loadOlder: messages.loadOlder,
    loadNewer: messages.loadNewer,
    jumpToFirst: messages.jumpToFirst,
    jumpToDate: messages.jumpToDate,
    jumpToLatest: () => {
      if (state.chat.history.hasNewer) return messages.loadLatest();
      setState("chat", { target: { seq: -1, at: "end" }, unseen: 0 });
      return Promise.resolve();
    },
    atBottom: messages.atBottom,
    targetReached: () => setState("chat", "target", null),
    setName: presence.setName,
    dismissBanner: () => setState("chat", "banner", null),
  };
  return { state, actions, uploads: createUploads(client), tokens: createTokens(client) };
}

export type AppStore = ReturnType<typeof createAppStore>;

const StoreContext = createContext<AppStore>();
export const StoreProvider = StoreContext.Provider;

export function useStore(): AppStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error("useStore outside StoreProvider");
  return store;
}
