/**
 * The message box. On a keyboard, Enter sends and Shift+Enter starts a new line; on a
 * touch screen Enter starts a new line and the Send button sends. The draft is kept
 * across reloads (lib/storage).
 */
import { Show, createSignal } from "solid-js";
import { codePoints, isBlank } from "../../../src/protocol/text";
import { loadDraft, saveDraft } from "../lib/storage";

/** The counter appears once this few code points are left. */
const COUNTER_FROM = 500;

/** Phones and tablets: no hover, a coarse pointer. */
const touchFirst = () => matchMedia("(hover: none) and (pointer: coarse)").matches;

/** `maxLength`: the server's limit, in code points. */
export function Composer(props: { onSend(content: string): void; maxLength: number }) {
  let box!: HTMLTextAreaElement;
  const [text, setText] = createSignal(loadDraft());
  const length = () => codePoints(text());
  const over = () => length() > props.maxLength;
  const canSend = () => !isBlank(text()) && !over();
  const enterSends = !touchFirst();

  function edit(value: string) {
    setText(value);
    saveDraft(value);
  }

  function send() {
    if (!canSend()) return;
    props.onSend(text());
    edit("");
    box.focus();
  }

  function onKeyDown(event: KeyboardEvent) {
    if (enterSends && event.key === "Enter" && !event.shiftKey && !event.isComposing) {
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
        onInput={(e) => edit(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        enterkeyhint={enterSends ? "send" : "enter"}
        aria-describedby="composer-hint composer-counter"
        aria-invalid={over() ? "true" : undefined}
      />
      <span id="composer-hint" class="sr-only">
        {enterSends ? "Enter sends; Shift+Enter starts a new line. Markdown works." : "Markdown works."}
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
