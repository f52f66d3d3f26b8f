/** One line of the timeline: a confirmed message, a message on its way, or a notice. */
import { Show } from "solid-js";
import type { ChatMessage } from "../../../src/protocol";
import type { Notice, Outgoing } from "../store";
import { connectionLabel, fullTime, shortTime } from "../lib/format";
import { MessageText } from "./message-text";

export function MessageItem(props: { message: ChatMessage; ownIds: string[] }) {
  const own = () => props.ownIds.includes(props.message.connection_id);
  const who = () => connectionLabel(props.message.connection_id, props.message.user.display_name, own());
  return (
    <li class="msg" classList={{ own: own() }} data-seq={props.message.seq}>
      <div class="meta">
        <span class="who">{who()}</span>
        <Show when={own() && props.message.user.display_name}>
          <span class="tag">this device</span>
        </Show>
        <time datetime={props.message.timestamp} title={fullTime(props.message.timestamp)}>
          {shortTime(props.message.timestamp)}
        </time>
      </div>
      <p class="body">
        <MessageText content={props.message.content} />
      </p>
    </li>
  );
}

export interface OutgoingProps {
  item: Outgoing;
  name: string | null;
  onRetry(id: string): void;
  onDiscard(id: string): void;
}

export function OutgoingItem(props: OutgoingProps) {
  const failed = () => props.item.status === "failed";
  return (
    <li class="msg own outgoing" classList={{ failed: failed() }} data-status={props.item.status}>
      <div class="meta">
        <span class="who">{props.name ?? "this device"}</span>
        <span class="status" role={failed() ? "alert" : undefined}>
          {failed() ? `Not sent. ${props.item.error ?? ""}` : "Sending…"}
        </span>
      </div>
      <p class="body">
        <MessageText content={props.item.content} />
      </p>
      <Show when={failed()}>
        <div class="row actions">
          <button type="button" onClick={() => props.onRetry(props.item.clientMsgId)}>
            Retry
          </button>
          <button type="button" class="quiet-button" onClick={() => props.onDiscard(props.item.clientMsgId)}>
            Discard
          </button>
        </div>
      </Show>
    </li>
  );
}

export function NoticeItem(props: { notice: Notice }) {
  return (
    <li class="notice-line">
      <span>{props.notice.text}</span>{" "}
      <time datetime={props.notice.timestamp} title={fullTime(props.notice.timestamp)}>
        {shortTime(props.notice.timestamp)}
      </time>
    </li>
  );
}
