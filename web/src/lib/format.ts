/** Formatting of times, durations and connection labels for the views. */

/** "14:05" for today, "12 Mar, 14:05" otherwise, in the reader's locale. */
export function shortTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const time = date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (date.toDateString() === now.toDateString()) return time;
  return `${date.toLocaleDateString(undefined, { day: "numeric", month: "short" })}, ${time}`;
}

/** "14:05": the time of day alone (the date separators say the day). */
export function shortClock(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

export function fullTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** "45 s", "3 min", "2 h": a wait, rounded up, for rate-limit and reconnect notices. */
export function waitText(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.ceil(s / 60)} min`;
  return `${Math.ceil(s / 3600)} h`;
}

/** A short, stable label for a connection that has no display name. */
export function shortConnection(connectionId: string): string {
  const tail = connectionId.replace(/[^A-Za-z0-9]/g, "").slice(-4);
  return `device ${tail || connectionId.slice(0, 4)}`;
}

/**
 * Who sent a message or who a device is: its display name, else "this device" for this
 * tab's connections, else a short label.
 */
export function connectionLabel(connectionId: string, displayName: string | null, own: boolean): string {
  if (displayName) return displayName;
  return own ? "this device" : shortConnection(connectionId);
}
