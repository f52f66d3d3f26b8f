/** Signing in and out: the sign-in form, the `?error=` landing codes, and the phase switch. */
import type { SetStoreFunction } from "solid-js/store";
import { errorInfo, type ChatClient } from "./client-port";
import { initialChat, type AppState } from "./state";
import { waitText } from "../lib/format";
import { saveDraft } from "../lib/storage";
import { forgetThisDevice } from "./presence";

/** What `/?error=<code>` (from POST /auth/verify) means, in a sentence. */
export const LANDING_ERRORS: Record<string, string> = {
  invalid_token: "That sign-in link is not valid or was already used. Request a new link below.",
  expired_token: "That sign-in link has expired. Links work for a limited time; request a new one below.",
  not_allowed: "That address is not allowed on this Roomz server. Ask its operator to add it, or try another address.",
};

export function landingMessage(code: string): string {
  return LANDING_ERRORS[code] ?? "Signing in did not work. Request a new link below.";
}

export interface SessionHooks {
  /** Called once the server confirms a session; starts the chat. */
  onSignedIn(email: string): void;
  /** Called before logging out, while the session is still valid (Web Push drops its subscription). */
  beforeLogout?(): Promise<void>;
}

export function createSessionActions(state: AppState, setState: SetStoreFunction<AppState>, client: ChatClient, hooks: SessionHooks) {
  function signedOut(notice: string | null = null) {
    setState("phase", "signed-out");
    setState("chat", initialChat());
    setState("signIn", { status: "idle", error: null, notice });
  }

  /** Failed loads in a row while the server can't be reached, and the next try. */
  let unreachableTries = 0;
  let nextTry: ReturnType<typeof setTimeout> | undefined;

  /**
   * Reads `?error=`, removes it from the address bar, then asks the server who we are.
   * While the server can't be reached it tries again by itself (2 s, doubling to 30 s).
   */
  async function load(location: { search: string } = window.location) {
    clearTimeout(nextTry);
    const code = new URLSearchParams(location.search).get("error");
    if (code) {
      setState("signIn", "notice", landingMessage(code));
      history.replaceState(null, "", "/");
    }
    setState("phase", "loading");
    // The composer checks what the server will; until this answers, the contract's defaults.
    client.limits().then((limits) => setState("limits", limits), () => {});
    try {
      const me = await client.me();
      unreachableTries = 0;
      hooks.onSignedIn(me.user.email);
    } catch (error) {
      const info = errorInfo(error);
      if (info.code === "unauthenticated" || info.code === "not_allowed" || info.status === 401 || info.status === 403) {
        setState("phase", "signed-out");
      } else {
        setState("phase", "unreachable");
        nextTry = setTimeout(() => void load(), Math.min(30_000, 2_000 * 2 ** unreachableTries++));
      }
    }
  }

  async function requestLink(email: string) {
    const address = email.trim();
    setState("signIn", { email: address, error: null });
    if (!address) {
      setState("signIn", "error", "Enter your email address.");
      return;
    }
    if (state.signIn.retryAt && state.signIn.retryAt > Date.now()) {
      setState("signIn", "error", rateLimitText((state.signIn.retryAt - Date.now()) / 1000));
      return;
    }
    const again = state.signIn.status === "sent";
    setState("signIn", "status", again ? "resending" : "sending");
    try {
      await client.requestMagicLink(address);
      setState("signIn", { status: "sent", notice: null, retryAt: null });
    } catch (error) {
      const info = errorInfo(error);
      setState("signIn", "status", again ? "sent" : "idle");
      if (info.code === "rate_limited") {
        const wait = info.retryAfterSeconds ?? 60;
        setState("signIn", { error: rateLimitText(wait), retryAt: Date.now() + wait * 1000 });
      } else if (info.code === "invalid_request") {
        setState("signIn", "error", "That doesn't look like an email address. Check it and try again.");
      } else if (info.code === "unreachable") {
        setState("signIn", "error", "Couldn't reach the server. Check your connection and try again.");
      } else {
        setState("signIn", "error", info.message);
      }
    }
  }

  /** Back to the form, keeping the address, to send another link or use another address. */
  function editAddress() {
    setState("signIn", { status: "idle", error: null });
  }

  /** True while this tab itself is logging out, so the core's "stopped" is expected. */
  let leaving = false;

  async function logout(everywhere: boolean) {
    leaving = true;
    try {
      await hooks.beforeLogout?.();
      if (everywhere) await client.logoutAll();
      else await client.logout();
    } catch (error) {
      const info = errorInfo(error);
      // Without a session there is nothing left to end; anything else must be said.
      if (info.code !== "unauthenticated") {
        setState("chat", { banner: `Logging out failed: ${info.message} Check your connection, then log out again.`, bannerRetry: false });
        return;
      }
    } finally {
      leaving = false;
    }
    client.close();
    // Nothing typed or named here carries over to whoever signs in next on this browser.
    saveDraft("");
    forgetThisDevice();
    signedOut(everywhere ? "You are logged out on every device." : "You are logged out.");
  }

  return { load, requestLink, editAddress, logout, signedOut, isLeaving: () => leaving };
}

function rateLimitText(seconds: number): string {
  return `Too many sign-in links were requested. Try again in ${waitText(seconds)}.`;
}
