/**
 * This user's devices: who is connected, the quiet join/leave notices, this connection's
 * display name, and the state of the connection itself.
 */
import type { SetStoreFunction } from "solid-js/store";
import type { AuthenticatedData, DisplayNameChangedData, UserJoinedData, UserLeftData } from "../../../src/protocol";
import { errorInfo, type ChatClient, type ConnectionState } from "./client-port";
import type { AppState } from "./state";
import { shortConnection } from "../lib/format";

/** The name is kept per tab, so a reload (or a reconnect) gives this device its name back. */
const NAME_KEY = "roomz.display_name";
/** So are the tab's earlier connection ids: its messages from before a reload stay "this device". */
const IDS_KEY = "roomz.connection_ids";
const MAX_IDS = 100;

function savedIds(): string[] {
  try {
    const ids = JSON.parse(sessionStorage.getItem(IDS_KEY) ?? "[]");
    return Array.isArray(ids) ? ids.filter((id) => typeof id === "string") : [];
  } catch {
    return [];
  }
}

function saveIds(ids: string[]) {
  try {
    sessionStorage.setItem(IDS_KEY, JSON.stringify(ids));
  } catch {}
}

function savedName(): string | null {
  try {
    return sessionStorage.getItem(NAME_KEY);
  } catch {
    return null;
  }
}

function saveName(name: string | null) {
  try {
    if (name) sessionStorage.setItem(NAME_KEY, name);
    else sessionStorage.removeItem(NAME_KEY);
  } catch {}
}

/** Logging out: the next person signing in on this tab gets neither this device's name nor its ids. */
export function forgetThisDevice() {
  saveName(null);
  try {
    sessionStorage.removeItem(IDS_KEY);
  } catch {}
}

/** `afterSeq` of a notice that happened before the newest messages were known. */
export const LATEST = Number.MAX_SAFE_INTEGER;

export function createPresenceActions(state: AppState, setState: SetStoreFunction<AppState>, client: ChatClient) {
  let noticeId = 0;
  /** Whether the core was given a name (it then re-applies it on every new connection). */
  let told = false;

  function notice(text: string, timestamp: string) {
    const held = state.chat.messages;
    // Before the first page arrives, "now" is after whatever that page will hold.
    const afterSeq = !state.chat.history.loaded ? LATEST : held.length ? held[held.length - 1].seq : 0;
    setState("chat", "notices", (list) => [...list, { id: ++noticeId, text, timestamp, afterSeq }]);
    setState("chat", "announcement", text);
  }

  /** Join and leave lines both carry the short device label, so a pair can be matched. */
  function label(connectionId: string, displayName: string | null) {
    const short = shortConnection(connectionId);
    return displayName ? `${displayName} (${short})` : short;
  }

  function authenticated(data: AuthenticatedData) {
    const id = data.connection_id;
    const ownIds = [...savedIds().filter((x) => x !== id), id].slice(-MAX_IDS);
    saveIds(ownIds);
    // A display name belongs to a connection. The core re-applies it after a reconnect;
    // after a reload only this tab remembers it.
    const own = data.connections.find((c) => c.connection_id === id);
    const ownName = told ? state.chat.ownName : own?.display_name ?? null;
    const devices = data.connections.map((c) => (c.connection_id === id ? { ...c, display_name: ownName } : c));
    setState("chat", { connectionId: id, ownIds, devices, ownName, email: data.user.email, authenticated: true });
    const wanted = savedName();
    if (!told && wanted && ownName !== wanted) void setName(wanted);
  }

  function joined(data: UserJoinedData) {
    if (data.connection_id === state.chat.connectionId) return;
    if (!state.chat.devices.some((d) => d.connection_id === data.connection_id)) {
      const device = { connection_id: data.connection_id, display_name: data.user.display_name, connected_at: data.timestamp };
      setState("chat", "devices", (list) => [...list, device]);
    }
    notice(`${label(data.connection_id, data.user.display_name)} connected`, data.timestamp);
  }

  function left(data: UserLeftData) {
    const device = state.chat.devices.find((d) => d.connection_id === data.connection_id);
    setState("chat", "devices", (list) => list.filter((d) => d.connection_id !== data.connection_id));
    notice(`${label(data.connection_id, device?.display_name ?? data.user.display_name)} disconnected`, data.timestamp);
  }

  function renamed(data: DisplayNameChangedData) {
    setState("chat", "devices", (d) => d.connection_id === data.connection_id, "display_name", data.user.display_name);
  }

  function connectionState(s: ConnectionState) {
    const retryAt = s.retryInMs !== undefined && s.retryInMs !== null ? Date.now() + s.retryInMs : null;
    setState("chat", "connection", { status: s.status, retryAt, reason: s.reason ?? null });
  }

  async function setName(name: string | null) {
    setState("chat", "nameError", null);
    try {
      const result = await client.setDisplayName(name);
      told = true;
      saveName(result);
      setState("chat", "ownName", result);
      const id = state.chat.connectionId;
      setState("chat", "devices", (d) => d.connection_id === id, "display_name", result);
    } catch (error) {
      const info = errorInfo(error);
      const text = info.code === "invalid_data" ? "Names are 1 to 50 characters, without control characters." : info.message;
      setState("chat", "nameError", `Name not changed: ${text}`);
    }
  }

  return { authenticated, joined, left, renamed, connectionState, setName };
}
