/**
 * Desktop notifications while the tab is hidden (the Notification API), switched on or
 * off per device. The switch is kept in localStorage; the Web Push subscription (its own
 * module) follows the same switch through `onNotificationsChange`.
 */
import { createSignal } from "solid-js";

const KEY = "roomz.notifications";

function saved(): boolean {
  try {
    return localStorage.getItem(KEY) === "on";
  } catch {
    return false;
  }
}

export const notificationsSupported = () => typeof Notification !== "undefined";
const permission = () => (notificationsSupported() ? Notification.permission : "denied");

const [enabled, setEnabled] = createSignal(saved() && permission() === "granted");
const [blocked, setBlocked] = createSignal(permission() === "denied");
export { enabled as notificationsEnabled, blocked as notificationsBlocked };

const listeners = new Set<(on: boolean) => void>();
/** Called with the new value whenever the switch changes (for Web Push). */
export function onNotificationsChange(listener: (on: boolean) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function store(on: boolean) {
  try {
    localStorage.setItem(KEY, on ? "on" : "off");
  } catch {}
  setEnabled(on);
  for (const listener of listeners) listener(on);
}

/** From a user gesture: asks the browser's permission when switching on. */
export async function setNotifications(on: boolean): Promise<void> {
  if (!on || !notificationsSupported()) return store(false);
  const answer = permission() === "granted" ? "granted" : await Notification.requestPermission();
  setBlocked(answer === "denied");
  store(answer === "granted");
}

/** Shows one notification when the page is hidden and the switch is on; a click brings the tab back. */
export function notify(title: string, body: string, tag = "roomz-message"): void {
  if (!enabled() || !document.hidden || permission() !== "granted") return;
  try {
    const n = new Notification(title, { body, tag, icon: "/favicon.svg" });
    n.onclick = () => {
      window.focus();
      n.close();
    };
  } catch {} // some browsers allow notifications only from a service worker
}
