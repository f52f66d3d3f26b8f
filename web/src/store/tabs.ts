/**
 * Tabs of this browser tell each other about signing in, so a tab that shows "Your
 * session ended" recovers when another tab signs in again (they share the cookie).
 */
const CHANNEL = "roomz.tabs";

export interface TabSignals {
  /** This tab is signed in: the others may look again. */
  signedIn(): void;
  close(): void;
}

export function createTabSignals(onOtherSignedIn: () => void): TabSignals {
  if (typeof BroadcastChannel === "undefined") return { signedIn() {}, close() {} };
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (event) => event.data === "signed-in" && onOtherSignedIn();
  return {
    signedIn: () => channel.postMessage("signed-in"),
    close: () => channel.close(),
  };
}
