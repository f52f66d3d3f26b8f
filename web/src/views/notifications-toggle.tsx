/**
 * The per-device switch for notifications. Switching on asks the browser's permission
 * (this is a user gesture); lib/notifications keeps the switch, and Web Push follows it.
 */
import { Show } from "solid-js";
import { notificationsBlocked, notificationsEnabled, notificationsSupported, setNotifications } from "../lib/notifications";
import { pushTrouble } from "../lib/web-push";

export function NotificationsToggle() {
  return (
    <Show when={notificationsSupported()}>
      <div class="notifications-toggle">
        <label class="switch">
          <input
            type="checkbox"
            role="switch"
            checked={notificationsEnabled()}
            onChange={(e) => {
              const box = e.currentTarget;
              void setNotifications(box.checked).then(() => (box.checked = notificationsEnabled()));
            }}
            aria-describedby="notifications-help"
          />
          <span>Notify me on this device</span>
        </label>
        <p id="notifications-help" class="quiet">
          {notificationsBlocked()
            ? "Notifications are blocked for this site in the browser's settings."
            : notificationsEnabled() && pushTrouble()
              ? `Shown while Roomz is open in a tab, even in the background. Not while it is closed: this browser could not subscribe to pushes (${pushTrouble()}).`
              : "For messages from your other devices while Roomz is in the background or closed."}
        </p>
      </div>
    </Show>
  );
}
