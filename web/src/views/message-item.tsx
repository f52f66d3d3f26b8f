/**
 * One confirmed message. Every message of the channel is the user's own: each says which
 * device sent it (its name then, or a short device label), and this tab's are marked
 * "this device". Consecutive messages of one device form a group: the device is shown
 * once, at the group's start (and always to screen readers).
 */
import { Show } from "solid-js";
import type { ChatMessage } from "../../../src/protocol";
import { connectionLabel, fullTime, shortClock } from "../lib/format";
import { Markdown } from "./markdown/markdown";
import { MessageFiles } from "./message-files";
import { MessageMenu } from "./message-menu";

export interface MessageItemProps {
  message: ChatMessage;
  own: boolean;
  /** First of its group: the device label is shown. */
  groupStart: boolean;
}

export function MessageItem(props: MessageItemProps) {
  const who = () => connectionLabel(props.message.connection_id, props.message.user.display_name, props.own);
  return (
    <li class="msg" classList={{ "group-start": props.groupStart, mine: props.own }} data-seq={props.message.seq}>
      <div class="meta" classList={{ "sr-only": !props.groupStart }}>
        <span class="who">{who()}</span>
        <Show when={props.own && props.message.user.display_name}>
          <span class="tag">this device</span>
        </Show>
      </div>
      <Show when={props.message.content}>
        <div class="body" dir="auto">
          <Markdown content={props.message.content} />
        </div>
      </Show>
      <MessageFiles files={props.message.files} />
      <div class="foot">
        <time datetime={props.message.timestamp} title={fullTime(props.message.timestamp)}>
          {shortClock(props.message.timestamp)}
        </time>
        <span class="state stored" title="Stored on the server" data-state="stored">
          <span aria-hidden="true">✓</span>
          <span class="sr-only">stored</span>
        </span>
        <MessageMenu content={props.message.content} />
      </div>
    </li>
  );
}
