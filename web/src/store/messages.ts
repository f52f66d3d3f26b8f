/**
 * The timeline's data: a window of confirmed messages (contiguous, sorted by seq, each
 * once, at most MAX_WINDOW of them), messages typed here and not yet confirmed, and
 * moving the window: older, newer, the start, a date, the latest.
 *
 * History is read with `history` requests (PROTOCOL.md section 2): the newest `limit`
 * messages below `before`. Since seq is gapless from 1, the page that starts at seq s is
 * `before: s + PAGE_SIZE, limit: PAGE_SIZE`, so any place in the channel is one request
 * away, whatever its length.
 */
import type { SetStoreFunction } from "solid-js/store";
import type { ChatMessage, MessageAck } from "../../../src/protocol";
import { errorInfo, type ChatClient } from "./client-port";
import type { AppState } from "./state";
import { LATEST } from "./presence";
import { connectionLabel } from "../lib/format";
import { randomId } from "../../../src/client/ids";
import { findSeqAt } from "./seek";
import { mergeBySeq } from "./merge";

export { mergeBySeq };
export const PAGE_SIZE = 50;
/** At most this many messages are held (and drawn); the far side is dropped as the window moves. */
export const MAX_WINDOW = 200;

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

export interface MessageHooks {
  /** A message from another device arrived (for notifications and unread counts). */
  onForeign(message: ChatMessage): void;
}

export function createMessageActions(state: AppState, setState: SetStoreFunction<AppState>, client: ChatClient, hooks: MessageHooks) {
  const history = (patch: Partial<AppState["chat"]["history"]>) => setState("chat", "history", patch);

  function confirm(messages: readonly ChatMessage[]) {
    const confirmed = new Set(messages.map((m) => m.client_msg_id).filter(Boolean));
    if (confirmed.size) setState("chat", "outgoing", (list) => list.filter((o) => !confirmed.has(o.clientMsgId)));
  }

  /** Adds `messages` to the window; past MAX_WINDOW, drops from the side away from `keep`. */
  function add(messages: ChatMessage[], keep: "old" | "new") {
    const merged = mergeBySeq(state.chat.messages, messages);
    if (merged.length <= MAX_WINDOW) return setState("chat", "messages", merged);
    if (keep === "new") {
      setState("chat", "messages", merged.slice(-MAX_WINDOW));
      history({ hasMore: true });
    } else {
      setState("chat", "messages", merged.slice(0, MAX_WINDOW));
      history({ hasNewer: true });
    }
  }

  /** A live (or replayed) message from the core. */
  function received(message: ChatMessage) {
    confirm([message]);
    const own = state.chat.ownIds.includes(message.connection_id);
    if (!state.chat.history.hasNewer && state.chat.history.loaded) add([message], state.chat.atBottom ? "new" : "old");
    else if (!state.chat.history.loaded) add([message], "new");
    if (own) return;
    const who = connectionLabel(message.connection_id, message.user.display_name, false);
    setState("chat", "announcement", `${who}: ${message.content}`);
    hooks.onForeign(message);
    if (document.hidden || !state.chat.atBottom || state.chat.history.hasNewer) setState("chat", "unseen", (n) => n + 1);
  }

  function reset() {
    setState("chat", { messages: [], notices: [], unseen: 0 });
    history({ hasMore: false, hasNewer: false, loaded: false, error: null });
  }

  /** Runs one history move; a second one while the first runs is ignored. */
  async function move(what: string, run: () => Promise<void>) {
    if (state.chat.history.loading) return;
    history({ loading: true, error: null });
    try {
      await run();
    } catch (error) {
      history({ error: `Couldn't load ${what}: ${errorInfo(error).message}` });
    } finally {
      history({ loading: false });
    }
  }

  const page = (before: number | undefined, limit = PAGE_SIZE) =>
    client.history(before === undefined ? { limit } : { before, limit });

  /** Replaces the window with `messages`, and says what lies beyond each end. */
  function replace(messages: ChatMessage[], hasMore: boolean) {
    setState("chat", "messages", messages);
    confirm(messages);
    const last = messages.at(-1)?.seq ?? 0;
    history({ hasMore, hasNewer: last < client.lastSeq, loaded: true });
  }

  /** The newest page (at every connection start, and for "jump to latest"). */
  const loadLatest = () =>
    move("messages", async () => {
      const p = await page(undefined);
      replace(p.messages, p.has_more);
      anchorEarlyNotices();
      setState("chat", { unseen: 0, target: { seq: p.messages.at(-1)?.seq ?? 0, at: "end" } });
    });

  function loadOlder() {
    const h = state.chat.history;
    if (h.loading || !h.hasMore) return Promise.resolve();
    const oldest = state.chat.messages[0];
    return move("older messages", async () => {
      const p = await page(oldest?.seq);
      add(p.messages, "old");
      history({ hasMore: p.has_more });
    });
  }

  /** The page after the window (seq is gapless: the PAGE_SIZE messages below newest + PAGE_SIZE + 1). */
  function loadNewer() {
    const h = state.chat.history;
    if (h.loading || !h.hasNewer) return Promise.resolve();
    const newest = state.chat.messages.at(-1)?.seq ?? 0;
    return move("newer messages", async () => {
      const p = await page(newest + PAGE_SIZE + 1);
      add(p.messages.filter((m) => m.seq > newest), "new");
      const last = state.chat.messages.at(-1)?.seq ?? 0;
      history({ hasNewer: last < client.lastSeq });
    });
  }

  /** The window around `seq` (half a page before it when it is not the first). */
  async function around(seq: number) {
    const before = Math.max(seq, 1) + PAGE_SIZE;
    const p = await page(before, PAGE_SIZE + Math.floor(PAGE_SIZE / 2));
    replace(p.messages, p.has_more);
  }

  const jumpToFirst = () =>
    move("the first messages", async () => {
      let limit = PAGE_SIZE;
      let p = await page(limit + 1, limit);
      // Deleted messages leave holes: widen until something (or the whole channel) is there.
      while (p.messages.length === 0 && limit < client.lastSeq) p = await page((limit *= 4) + 1, PAGE_SIZE);
      replace(p.messages, p.has_more);
      setState("chat", "target", { seq: p.messages[0]?.seq ?? 0, at: "start" });
    });

  /** The first message sent on or after `date` (local midnight), found by halving the seqs. */
  const jumpToDate = (date: Date) =>
    move("that day", async () => {
      const seq = await findSeqAt(date.getTime(), client.lastSeq, async (s) => (await page(s + 1, 1)).messages[0]);
      await around(seq);
      setState("chat", "target", { seq, at: "start" });
    });

  function deliver(clientMsgId: string, ack: Promise<MessageAck>) {
    ack.then(
      (done) => {
        // The ack precedes the message frame; drop the draft only once the message is held.
        if (state.chat.messages.some((m) => m.seq === done.seq) || state.chat.history.hasNewer) {
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

  function queued(clientMsgId: string, content: string, createdAt: string, files: string[] = []) {
    setState("chat", "outgoing", (list) => [...list, { clientMsgId, content, status: "sending" as const, error: null, createdAt, files }]);
  }

  /** Sends a message, with the ids of uploaded files (store/uploads.ts) when it has any. */
  function send(content: string, files: string[] = []) {
    const clientMsgId = randomId();
    queued(clientMsgId, content, new Date().toISOString(), files);
    deliver(clientMsgId, client.send(content, clientMsgId, files));
    // Sending is a move to the latest: a reader elsewhere in the history comes back down.
    if (state.chat.history.hasNewer) void loadLatest();
    else setState("chat", "target", { seq: -1, at: "end" });
  }

  /** What the core kept from before a reload (the outbox storage), shown as on its way. */
  function restore() {
    for (const r of client.restoredSends()) {
      if (state.chat.outgoing.some((o) => o.clientMsgId === r.client_msg_id)) continue;
      queued(r.client_msg_id, r.content, r.created_at, r.files);
      deliver(r.client_msg_id, r.ack);
    }
  }

  /** Sends again with the same client_msg_id, so the server stores it at most once. */
  function retry(clientMsgId: string) {
    const draft = state.chat.outgoing.find((o) => o.clientMsgId === clientMsgId);
    if (!draft) return;
    setState("chat", "outgoing", (o) => o.clientMsgId === clientMsgId, { status: "sending", error: null });
    deliver(clientMsgId, client.send(draft.content, clientMsgId, draft.files));
  }

  function discard(clientMsgId: string) {
    setState("chat", "outgoing", (list) => list.filter((o) => o.clientMsgId !== clientMsgId));
  }

  /** The timeline says whether the reader is at the newest message; there, nothing is unseen. */
  function atBottom(value: boolean) {
    if (value !== state.chat.atBottom) setState("chat", "atBottom", value);
    if (value && !document.hidden && !state.chat.history.hasNewer && state.chat.unseen) setState("chat", "unseen", 0);
  }

  /** Notices from before the first page now follow the newest message of that page. */
  function anchorEarlyNotices() {
    const held = state.chat.messages;
    const last = held.length ? held[held.length - 1].seq : 0;
    setState("chat", "notices", (n) => n.afterSeq === LATEST, "afterSeq", last);
  }

  return { received, reset, loadLatest, loadOlder, loadNewer, jumpToFirst, jumpToDate, send, restore, retry, discard, atBottom };
}
