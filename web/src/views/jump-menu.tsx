/** Jumping through history: to the first message, or to a day, each one request away (see store/messages). */
import { createSignal, onCleanup } from "solid-js";

export function JumpMenu(props: { onFirst(): void; onDate(date: Date): void; busy: boolean }) {
  const [day, setDay] = createSignal("");
  let details!: HTMLDetailsElement;
  const done = () => (details.open = false);
  // Like a menu: Escape or a click elsewhere closes it.
  const outside = (event: Event) => details.open && !details.contains(event.target as Node) && done();
  document.addEventListener("pointerdown", outside);
  onCleanup(() => document.removeEventListener("pointerdown", outside));
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== "Escape" || !details.open) return;
    done();
    details.querySelector("summary")?.focus();
  };
  function go(event: SubmitEvent) {
    event.preventDefault();
    const [y, m, d] = day().split("-").map(Number);
    if (!y || !m || !d) return;
    props.onDate(new Date(y, m - 1, d));
    done();
  }
  return (
    <details class="jump-menu" ref={details} onKeyDown={onKeyDown}>
      <summary>Go to…</summary>
      <div class="jump-panel">
        <button type="button" disabled={props.busy} onClick={() => (props.onFirst(), done())}>
          First message
        </button>
        <form class="row" onSubmit={go}>
          <label for="jump-date">Day</label>
          <input id="jump-date" type="date" value={day()} onInput={(e) => setDay(e.currentTarget.value)} />
          <button type="submit" disabled={props.busy || !day()}>
            Go
          </button>
        </form>
      </div>
    </details>
  );
}
