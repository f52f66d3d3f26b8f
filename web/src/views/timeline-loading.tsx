/** What the timeline shows until its first page arrives: a few placeholder bubbles, said as "Loading messages". */
import { For } from "solid-js";

export function TimelineLoading() {
  return (
    <div class="timeline-loading" role="status" data-testid="timeline-loading">
      <span class="sr-only">Loading messages…</span>
      <For each={[62, 40, 75, 52]}>{(width) => <div class="placeholder" aria-hidden="true" style={{ width: `${width}%` }} />}</For>
    </div>
  );
}
