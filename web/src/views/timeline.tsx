/**
 * The scrolling list of messages, newest at the bottom. It draws only the store's window
 * (at most MAX_WINDOW messages); scrolling near an end moves the window and keeps the
 * message the reader was looking at where it was. New messages keep the view at the
 * bottom only when the reader was already there.
 */
import { For, Show, createEffect, createMemo, on, onCleanup, onMount } from "solid-js";
import type { ChatMessage } from "../../../src/protocol";
import type { Notice, Outgoing } from "../store";
import { GROUP_MS, dayKey, dayLabel } from "../lib/days";
import { MessageItem } from "./message-item";
import { NoticeItem } from "./notice-item";
import { OutgoingItem } from "./outgoing-item";
import { TimelineLoading } from "./timeline-loading";

export interface TimelineProps {
  messages: ChatMessage[];
  notices: Notice[];
  outgoing: Outgoing[];
  ownIds: string[];
  ownName: string | null;
  history: { loading: boolean; hasMore: boolean; hasNewer: boolean; error: string | null; loaded: boolean };
  target: { seq: number; at: "start" | "end" } | null;
  onLoadOlder(): Promise<void>;
  onLoadNewer(): Promise<void>;
  onAtBottom(at: boolean): void;
  onTargetReached(): void;
  onRetry(id: string): void;
  onDiscard(id: string): void;
}

const NEAR_EDGE = 400;
const NEAR_BOTTOM = 80;
const TOP = -1;
const END = -2;

export function Timeline(props: TimelineProps) {
  let scroller!: HTMLDivElement;
  let content!: HTMLOListElement;
  let pinned = true;

  /** Notices grouped by the message they follow; those whose message is not held go first (TOP) or last (END). */
  const noticesAfter = createMemo(() => {
    const held = new Set(props.messages.map((m) => m.seq));
    const last = props.messages.length ? props.messages[props.messages.length - 1].seq : 0;
    const groups = new Map<number, Notice[]>();
    for (const n of props.notices) {
      const key = held.has(n.afterSeq) ? n.afterSeq : n.afterSeq >= last ? (props.history.hasNewer ? -3 : END) : TOP;
      groups.set(key, [...(groups.get(key) ?? []), n]);
    }
    return groups;
  });

  const own = (m: ChatMessage) => props.ownIds.includes(m.connection_id);
  const newDay = (i: number) => i === 0 || dayKey(props.messages[i - 1].timestamp) !== dayKey(props.messages[i].timestamp);
  const groupStart = (i: number) => {
    if (newDay(i)) return true;
    const prev = props.messages[i - 1];
    const m = props.messages[i];
    return !sameSender(prev, m) || Date.parse(m.timestamp) - Date.parse(prev.timestamp) > GROUP_MS || noticesAfter().has(prev.seq);
  };
  // One connection, or one name shown alike: each HTTP post is a connection of its own,
  // and a script's burst under its token's name is still one group.
  const sameSender = (a: ChatMessage, b: ChatMessage) =>
    a.connection_id === b.connection_id || (a.user.display_name !== null && a.user.display_name === b.user.display_name && own(a) === own(b));

  const toBottom = () => (scroller.scrollTop = scroller.scrollHeight);
  const atBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM;

  /** Runs `move` (which changes the window) and puts the first visible message back where it was. */
  async function keepPlace(move: () => Promise<void>) {
    const top = scroller.getBoundingClientRect().top;
    const anchor = [...content.querySelectorAll<HTMLElement>("li[data-seq]")].find((el) => el.getBoundingClientRect().bottom > top);
    const seq = anchor?.dataset.seq;
    const before = anchor ? anchor.getBoundingClientRect().top : 0;
    await move();
    const again = seq ? content.querySelector<HTMLElement>(`li[data-seq="${seq}"]`) : null;
    if (again) scroller.scrollTop += again.getBoundingClientRect().top - before;
    fillIfShort();
  }

  const loadOlder = () => keepPlace(props.onLoadOlder);
  const loadNewer = () => keepPlace(props.onLoadNewer);

  /** With too few messages to scroll there is no scroll event: keep loading until there is. */
  function fillIfShort() {
    if (props.history.loading || scroller.scrollHeight > scroller.clientHeight) return;
    if (props.history.hasMore) void loadOlder();
    else if (props.history.hasNewer) void loadNewer();
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
    pinned = atBottom() && !props.history.hasNewer;
    props.onAtBottom(pinned);
    if (props.history.loading) return;
    if (scroller.scrollTop < NEAR_EDGE && props.history.hasMore) void loadOlder();
    else if (scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_EDGE && props.history.hasNewer) void loadNewer();
  }

  /** After a jump (or a send): show the target, then say it was reached. */
  createEffect(
    on(
      () => props.target,
      (target) => {
        if (!target) return;
        queueMicrotask(() => {
          const el = target.seq > 0 ? content.querySelector<HTMLElement>(`li[data-seq="${target.seq}"]`) : null;
          if (target.at === "end" || !el) {
            pinned = !props.history.hasNewer;
            toBottom();
          } else {
            pinned = false;
            el.scrollIntoView({ block: "start" });
            el.tabIndex = -1;
            el.focus({ preventScroll: true });
          }
          props.onAtBottom(pinned);
          props.onTargetReached();
          fillIfShort();
        });
      },
    ),
  );

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
    <div class="timeline" ref={scroller} onScroll={onScroll} tabindex="0" aria-label="Conversation" role="region" aria-busy={!props.history.loaded}>
      <div class="history-edge">
        <Show when={props.history.error}>
          <p class="error">{props.history.error}</p>
        </Show>
        <Show when={props.history.loaded && !props.history.hasMore && props.messages.length > 0}>
          <p class="quiet">Beginning of your channel.</p>
        </Show>
        <Show when={props.history.loaded && props.history.hasMore}>
          <button type="button" class="quiet-button" onClick={() => void loadOlder()} disabled={props.history.loading}>
            {props.history.loading ? "Loading older messages…" : "Load older messages"}
          </button>
        </Show>
      </div>
      <Show when={!props.history.loaded}>
        <TimelineLoading />
      </Show>
      <ol class="messages" data-testid="messages" ref={content}>
          <For each={noticesAfter().get(TOP)}>{(n) => <NoticeItem notice={n} />}</For>
          <For each={props.messages}>
            {(m, i) => (
              <>
                <Show when={newDay(i())}>
                  <li class="day" data-testid="day">
                    <span>{dayLabel(m.timestamp)}</span>
                  </li>
                </Show>
                <MessageItem message={m} own={own(m)} groupStart={groupStart(i())} />
                <For each={noticesAfter().get(m.seq)}>{(n) => <NoticeItem notice={n} />}</For>
              </>
            )}
          </For>
          <Show when={!props.history.hasNewer}>
            <For each={noticesAfter().get(END)}>{(n) => <NoticeItem notice={n} />}</For>
            <For each={props.outgoing}>
              {(o) => <OutgoingItem item={o} name={props.ownName} onRetry={props.onRetry} onDiscard={props.onDiscard} />}
            </For>
          </Show>
        </ol>
        <Show when={props.history.hasNewer}>
          <div class="history-edge">
            <button type="button" class="quiet-button" onClick={() => void loadNewer()} disabled={props.history.loading}>
              {props.history.loading ? "Loading newer messages…" : "Load newer messages"}
            </button>
          </div>
        </Show>
        <Show when={props.history.loaded && props.messages.length === 0 && props.outgoing.length === 0 && !props.history.hasNewer}>
          <p class="empty quiet">No messages yet. Anything you write here reaches all your signed-in devices.</p>
        </Show>
    </div>
  );
}
