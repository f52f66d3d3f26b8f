/**
 * Web Push on this device (PROTOCOL.md section 8), following the per-device notifications
 * switch (lib/notifications.ts): switched on, the browser subscribes with the server's
 * VAPID key and the subscription is registered with this session; switched off, it is
 * dropped here and on the server. A subscription belongs to the session that registered
 * it, so each sign-in registers it again, and logging out drops it first (the DELETE
 * needs the session). The service worker (/sw.js, web/src/sw) shows the pushes.
 */
import { createSignal } from "solid-js";
import type { PushSubscriptionData } from "../../../src/client/types";
import { notificationsEnabled, onNotificationsChange } from "./notifications";

/** The part of the client core that talks to the server about push. */
export interface PushApi {
  pushKey(): Promise<string>;
  registerPush(subscription: PushSubscriptionData, device: string): Promise<void>;
  unregisterPush(endpoint: string): Promise<void>;
}

/**
 * Why this device can't get pushes while Roomz is closed (the browser or the server refused
 * the subscription), or null. The switch stays on: the page's own notifications still work,
 * and the switch's help text says what is missing.
 */
const [pushTrouble, setPushTrouble] = createSignal<string | null>(null);
export { pushTrouble };

export const webPushSupported = () => "serviceWorker" in navigator && "PushManager" in window && window.isSecureContext;

/** Registers /sw.js (the offline app shell and the push handler) once the page has loaded. */
export function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  const register = () => void navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  if (document.readyState === "complete") register();
  else window.addEventListener("load", register, { once: true });
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function sameKey(given: ArrayBuffer | null, key: Uint8Array): boolean {
  if (!given || given.byteLength !== key.length) return false;
  const bytes = new Uint8Array(given);
  return bytes.every((b, i) => b === key[i]);
}

/** A name for this device in the server's list: the browser and the system. */
function deviceName(): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const system = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return system ? `${browser} on ${system}` : browser;
}

export function startWebPush(api: PushApi) {
  async function subscribe(): Promise<void> {
    const registration = await navigator.serviceWorker.ready;
    const key = keyBytes(await api.pushKey());
    let subscription = await registration.pushManager.getSubscription();
    // Subscribed under another server key (the server's pair changed): start over.
    if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
      await subscription.unsubscribe();
      subscription = null;
    }
    subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    await api.registerPush(subscription.toJSON() as PushSubscriptionData, deviceName());
  }

  async function unsubscribe(): Promise<void> {
    const registration = await navigator.serviceWorker.getRegistration("/");
    const subscription = await registration?.pushManager.getSubscription();
    if (!subscription) return;
    await subscription.unsubscribe();
    await api.unregisterPush(subscription.endpoint);
  }

  /** Failures leave the switch as it is (the page's own notifications still work) and are shown as pushTrouble. */
  const quietly = (work: () => Promise<void>): Promise<void> =>
    webPushSupported()
      ? work().then(
          () => void setPushTrouble(null),
          (error) => {
            console.warn(`Web Push: ${error}`);
            if (work === subscribe) setPushTrouble(error instanceof Error ? error.message : String(error));
          },
        )
      : Promise.resolve();

  onNotificationsChange((on) => {
    if (!on) setPushTrouble(null);
    void quietly(on ? subscribe : unsubscribe);
  });
  return {
    /** Signed in (this page's session): register this device's subscription with it, if the switch is on. */
    signedIn: () => (notificationsEnabled() ? quietly(subscribe) : Promise.resolve()),
    /** About to log out: drop the subscription while the session can still say so. */
    beforeLogout: () => quietly(unsubscribe),
  };
}
