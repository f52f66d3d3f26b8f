/** A quiet line in the timeline: another device connected or disconnected. */
import type { Notice } from "../store";
import { fullTime, shortTime } from "../lib/format";

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
