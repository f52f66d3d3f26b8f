/**
 * The timeline: confirmed messages (sorted by seq, each once), messages typed here and
 * not yet confirmed, and paging back through history.
 */
import type { SetStoreFunction } from "solid-js/store";
import type { ChatMessage } from "../../../src/protocol";
import { errorInfo, type ChatClient } from "./client-port";
import type { AppState } from "./state";
import { connectionLabel } from "../lib/format";
import { LATEST } from "./presence";
import { randomId } from "../../../src/client/ids";

export const PAGE_SIZE = 50;

/** Merges `incoming` into `held` (both ascending by seq), keeping each seq once. */
export function mergeBySeq(held: readonly ChatMessage[], incoming: readonly ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) return held as ChatMessage[];
  const last = held.length ? held[held.length - 1].seq : -Infinity;
  const sorted = [...incoming].sort((a, b) => a.seq - b.seq);
  if (sorted[0].seq > last) return [...held, ...dedupe(sorted)];
  const bySeq = new Map<number, ChatMessage>();
  for (const m of held) bySeq.set(m.seq, m);
  for (const m of sorted) if (!bySeq.has(m.seq)) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function dedupe(sorted: ChatMessage[]): ChatMessage[] {
  return sorted.filter((m, i) => i === 0 || m.seq !== sorted[i - 1].seq);
}

/** A sentence for a refused send, by the frame error code. */
export function sendErrorText(code: string, message: string, maxLength: number): string {
  switch (code) {
    case "message_too_long":
      return `Too long: at most ${maxLength} characters.`;
    case "empty_message":
      return "An empty message can't be sent.";
    case "rate_limited":
      return "Sending too fast. Wait a moment, then retry.";
    case "unavailable":
      return "The server couldn't store it just now. Retry in a moment.";
    default:
      return message || "Not sent.";
  }
}

export function createMessageActions(state: AppState, setState: SetStoreFunction<AppState>, client: ChatClient) {
  function add(messages: ChatMessage[]) {
    setState("chat", "messages", (held) => mergeBySeq(held, messages));
    const confirmed = new Set(messages.map((m) => m.client_msg_id).filter(Boolean));
    if (confirmed.size) setState("chat", "outgoing", (list) => list.filter((o) => !confirmed.has(o.clientMsgId)));
  }

  /** A live (or replayed) message from the core. */
  function received(message: ChatMessage) {
    add([message]);
    if (!state.chat.ownIds.includes(message.connection_id)) {
      const who = connectionLabel(message.connection_id, message.user.display_name, false);
      setState("chat", "announcement", `${who}: ${message.content}`);
    }
  }

  function reset() {
    setState("chat", { messages: [], notices: [] });
    setState("chat", "history", { hasMore: false, loaded: false, error: null });
  }

  async function loadPage(before?: number) {
    if (state.chat.history.loading) return;
    setState("chat", "history", { loading: true, error: null });
    try {
      const page = await client.history(before === undefined ? { limit: PAGE_SIZE } : { before, limit: PAGE_SIZE });
      add(page.messages);
      if (before === undefined) anchorEarlyNotices();
      setState("chat", "history", { hasMore: page.has_more, loaded: true });
    } catch (error) {
      setState("chat", "history", "error", `Couldn't load older messages: ${errorInfo(error).message}`);
    } finally {
      setState("chat", "history", "loading", false);
    }
  }

  /** Notices from before the first page now follow the newest message of that page. */
  function anchorEarlyNotices() {
    const held = state.chat.messages;
    const last = held.length ? held[held.length - 1].seq : 0;
    setState("chat", "notices", (n) => n.afterSeq === LATEST, "afterSeq", last);
  }

  /** The newest page, once per connection start (live traffic then keeps it current). */
  const loadLatest = () => loadPage();

  function loadOlder() {
    const h = state.chat.history;
    if (h.loading || !h.hasMore) return Promise.resolve();
    const oldest = state.chat.messages[0];
    return loadPage(oldest ? oldest.seq : undefined);
  }

  function deliver(clientMsgId: string, content: string) {
    client.send(content, clientMsgId).then(
      (ack) => {
        // The ack precedes the message frame; drop the draft only once the message is held.
        if (state.chat.messages.some((m) => m.seq === ack.seq)) {
          setState("chat", "outgoing", (list) => list.filter((o) => o.clientMsgId !== clientMsgId));
        }
      },
      (error) => {
        const info = errorInfo(error);
        setState("chat", "outgoing", (o) => o.clientMsgId === clientMsgId, {
          status: "failed",
          error: sendErrorText(info.code, info.message, state.limits.max_message_length),
        });
      },
    );
  }

  function send(content: string) {
    const clientMsgId = randomId();
    setState("chat", "outgoing", (list) => [
      ...list,
      { clientMsgId, content, status: "sending" as const, error: null, createdAt: new Date().toISOString() },
    ]);
    deliver(clientMsgId, content);
  }

  /** Sends again with the same client_msg_id, so the server stores it at most once. */
  function retry(clientMsgId: string) {
    const draft = state.chat.outgoing.find((o) => o.clientMsgId === clientMsgId);
    if (!draft) return;
    setState("chat", "outgoing", (o) => o.clientMsgId === clientMsgId, { status: "sending", error: null });
    deliver(clientMsgId, draft.content);
  }

  function discard(clientMsgId: string) {
    setState("chat", "outgoing", (list) => list.filter((o) => o.clientMsgId !== clientMsgId));
  }

  return { received, reset, loadLatest, loadOlder, send, retry, discard };
}
