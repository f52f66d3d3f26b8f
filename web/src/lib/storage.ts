/**
 * What the web app keeps in localStorage: the draft in the message box, and the client
 * core's outbox (messages sent but not acknowledged), so that both survive a reload.
 * Every access is guarded: a browser that refuses storage loses only the reload copy.
 */
import type { OutboxStorage, PendingSend } from "../../../src/client/types";

const DRAFT_KEY = "roomz.draft";
const OUTBOX_KEY = "roomz.outbox";

function read<T>(key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? fallback : (JSON.parse(raw) as T);
  } catch {
    return fallback;
  }
}

function write(key: string, value: unknown) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {}
}

export const loadDraft = (): string => {
  const draft = read<unknown>(DRAFT_KEY, "");
  return typeof draft === "string" ? draft : "";
};
export const saveDraft = (text: string) => write(DRAFT_KEY, text ? text : null);

/**
 * The outbox storage for this tab. Tabs share localStorage, so each replaces only the
 * entries it knows of (those it loaded or saved) and keeps the other tabs' entries; a
 * message two tabs both send again is stored once (same client_msg_id).
 */
export function localOutboxStorage(): OutboxStorage {
  const known = new Set<string>();
  const stored = () => {
    const list = read<unknown>(OUTBOX_KEY, []);
    return Array.isArray(list) ? (list as PendingSend[]) : [];
  };
  return {
    load() {
      const list = stored();
      for (const p of list) known.add(p.client_msg_id);
      return list;
    },
    save(pending) {
      const others = stored().filter((p) => !known.has(p.client_msg_id));
      known.clear();
      for (const p of pending) known.add(p.client_msg_id);
      const all = [...others, ...pending];
      write(OUTBOX_KEY, all.length ? all : null);
    },
  };
}
