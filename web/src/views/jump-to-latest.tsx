/** The pill shown while the reader is away from the newest message: how many arrived since, and a way down. */
import { Show } from "solid-js";

export function JumpToLatest(props: { visible: boolean; unseen: number; onJump(): void }) {
  return (
    <Show when={props.visible}>
      <button type="button" class="jump-latest" data-testid="jump-latest" onClick={() => props.onJump()}>
        <span aria-hidden="true">↓</span>
        {props.unseen > 0 ? ` ${props.unseen} new message${props.unseen === 1 ? "" : "s"}` : " Jump to latest"}
      </button>
    </Show>
  );
}
