/** Calendar days for the timeline's date separators and grouping. */

/** The local calendar day of `iso`, as a comparable key. */
export function dayKey(iso: string): string {
  return new Date(iso).toDateString();
}

/** "Today", "Yesterday", "Monday 3 March" (this year) or "3 March 2025". */
export function dayLabel(iso: string, now = new Date()): string {
  const date = new Date(iso);
  const days = Math.round((startOfDay(now) - startOfDay(date)) / 86_400_000);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  const sameYear = date.getFullYear() === now.getFullYear();
  return date.toLocaleDateString(undefined, sameYear ? { weekday: "long", day: "numeric", month: "long" } : { day: "numeric", month: "long", year: "numeric" });
}

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/** Two messages of one device less than this apart are drawn as one group. */
export const GROUP_MS = 5 * 60_000;
