/**
 * The scrolling list of messages, newest at the bottom. Scrolling near the top loads the
 * previous page and keeps the reader's place; new messages keep the view pinned to the
 * bottom only when the reader was already there.
 */
import { For, Show, createEffect, createMemo, on, onCleanup, onMount } from "solid-js";
import type { ChatMessage } from "../../../src/protocol";
import type { Notice, Outgoing } from "../store";
import { MessageItem, NoticeItem, OutgoingItem } from "./message-item";

export interface TimelineProps {
  messages: ChatMessage[];
  notices: Notice[];
  outgoing: Outgoing[];
  ownIds: string[];
  ownName: string | null;
  history: { loading: boolean; hasMore: boolean; error: string | null; loaded: boolean };
  onLoadOlder(): Promise<void>;
  onRetry(id: string): void;
  onDiscard(id: string): void;
}

const NEAR_TOP = 120;
const TOP = -1;
const END = -2;
const NEAR_BOTTOM = 80;

export function Timeline(props: TimelineProps) {
  let scroller!: HTMLDivElement;
  let content!: HTMLOListElement;
  let pinned = true;

  /**
   * Notices grouped by the message they follow; those whose message is not held go
   * before every message (TOP) or after them (END).
   */
  const noticesAfter = createMemo(() => {
    const held = new Set(props.messages.map((m) => m.seq));
    const last = props.messages.length ? props.messages[props.messages.length - 1].seq : 0;
    const groups = new Map<number, Notice[]>();
    for (const n of props.notices) {
      const key = held.has(n.afterSeq) ? n.afterSeq : n.afterSeq >= last ? END : TOP;
      groups.set(key, [...(groups.get(key) ?? []), n]);
    }
    return groups;
  });

  const toBottom = () => (scroller.scrollTop = scroller.scrollHeight);

  async function loadOlder() {
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    await props.onLoadOlder();
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
    fillIfShort();
  }

  /** With too few messages to scroll, there is no scroll event; keep loading until there is. */
  function fillIfShort() {
    if (props.history.hasMore && !props.history.loading && scroller.scrollHeight <= scroller.clientHeight) void loadOlder();
  }

  /** Sizes seen last, to tell a reader's scroll from one caused by a layout change. */
  let seen = { height: 0, client: 0 };
  const resized = () => {
    const changed = scroller.scrollHeight !== seen.height || scroller.clientHeight !== seen.client;
    seen = { height: scroller.scrollHeight, client: scroller.clientHeight };
    return changed;
  };

  function onScroll() {
    if (resized() && pinned) return toBottom();
    pinned = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM;
    if (scroller.scrollTop < NEAR_TOP && props.history.hasMore && !props.history.loading) void loadOlder();
  }

  createEffect(on(() => props.history.loaded, (loaded) => loaded && (toBottom(), fillIfShort())));
  onMount(() => {
    toBottom();
    // New messages, a failed send growing its row, the composer growing: whatever changes
    // the sizes, a reader at the bottom stays at the bottom.
    const observer = new ResizeObserver(() => {
      resized();
      if (pinned) toBottom();
    });
    observer.observe(scroller);
    observer.observe(content);
    onCleanup(() => observer.disconnect());
  });

  return (
    <div class="timeline" ref={scroller} onScroll={onScroll} tabindex="0" aria-label="Conversation" role="region">
      <div class="history-edge">
        <Show when={props.history.error}>
          <p class="error">{props.history.error}</p>
        </Show>
        <Show
          when={props.history.hasMore}
          fallback={<Show when={props.history.loaded}><p class="quiet">Beginning of your channel.</p></Show>}
        >
          <button type="button" class="quiet-button" onClick={() => void loadOlder()} disabled={props.history.loading}>
            {props.history.loading ? "Loading older messages…" : "Load older messages"}
          </button>
        </Show>
      </div>
      <ol class="messages" data-testid="messages" ref={content}>
        <For each={noticesAfter().get(TOP)}>{(n) => <NoticeItem notice={n} />}</For>
        <For each={props.messages}>
          {(m) => (
            <>
              <MessageItem message={m} ownIds={props.ownIds} />
              <For each={noticesAfter().get(m.seq)}>{(n) => <NoticeItem notice={n} />}</For>
            </>
          )}
        </For>
        <For each={noticesAfter().get(END)}>{(n) => <NoticeItem notice={n} />}</For>
        <For each={props.outgoing}>
          {(o) => <OutgoingItem item={o} name={props.ownName} onRetry={props.onRetry} onDiscard={props.onDiscard} />}
        </For>
      </ol>
      <Show when={props.history.loaded && props.messages.length === 0 && props.outgoing.length === 0}>
        <p class="empty quiet">No messages yet. Anything you write here reaches all your signed-in devices.</p>
      </Show>
    </div>
  );
}
