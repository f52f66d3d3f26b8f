/** The message box: Enter sends, Shift+Enter starts a new line; a counter near the limit. */
import { Show, createSignal } from "solid-js";
import { codePoints, isBlank } from "../../../src/protocol/text";

/** The counter appears once this few code points are left. */
const COUNTER_FROM = 500;

/** `maxLength`: the server's props.maxLength, in code points. */
export function Composer(props: { onSend(content: string): void; maxLength: number }) {
  let box!: HTMLTextAreaElement;
  const [text, setText] = createSignal("");
  const length = () => codePoints(text());
  const over = () => length() > props.maxLength;
  const canSend = () => !isBlank(text()) && !over();

  function send() {
    if (!canSend()) return;
    props.onSend(text());
    setText("");
    box.focus();
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  }

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label for="composer-input" class="sr-only">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={box}
        rows={1}
        placeholder="Write a message"
        value={text()}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        aria-describedby="composer-hint composer-counter"
        aria-invalid={over() ? "true" : undefined}
      />
      <span id="composer-hint" class="sr-only">
        Enter sends; Shift+Enter starts a new line.
      </span>
      <div class="composer-side">
        <Show when={length() > props.maxLength - COUNTER_FROM}>
          <span id="composer-counter" class="counter" classList={{ over: over() }} aria-live="polite" data-testid="counter">
            {over() ? `${length() - props.maxLength} over the limit` : `${props.maxLength - length()} left`}
          </span>
        </Show>
        <button type="submit" class="primary" disabled={!canSend()}>
          Send
        </button>
      </div>
    </form>
  );
}
