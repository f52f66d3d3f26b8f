/** A message typed on this device that the server has not confirmed: on its way, or failed. */
import { Show } from "solid-js";
import type { Outgoing } from "../store";
import { Markdown } from "./markdown/markdown";

export interface OutgoingProps {
  item: Outgoing;
  name: string | null;
  onRetry(id: string): void;
  onDiscard(id: string): void;
}

export function OutgoingItem(props: OutgoingProps) {
  const failed = () => props.item.status === "failed";
  return (
    <li class="msg mine outgoing group-start" classList={{ failed: failed() }} data-status={props.item.status}>
      <div class="meta">
        <span class="who">{props.name ?? "this device"}</span>
      </div>
      <div class="body" dir="auto">
        <Markdown content={props.item.content} />
      </div>
      <div class="foot">
        <span class="state" data-state={props.item.status} role={failed() ? "alert" : undefined}>
          {failed() ? `Not sent. ${props.item.error ?? ""}` : "Sending…"}
        </span>
      </div>
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
