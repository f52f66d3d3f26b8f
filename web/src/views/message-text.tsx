/**
 * Message content as text. Solid writes strings as text nodes, never as HTML; http(s)
 * links become anchors that open in a new tab without an opener or referrer.
 */
import { For } from "solid-js";
import { linkify } from "../lib/text";

export function MessageText(props: { content: string }) {
  return (
    <For each={linkify(props.content)}>
      {(segment) =>
        segment.kind === "link" ? (
          <a href={segment.href} target="_blank" rel="noopener noreferrer">
            {segment.text}
          </a>
        ) : (
          segment.text
        )
      }
    </For>
  );
}
