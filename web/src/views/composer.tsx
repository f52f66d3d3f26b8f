/**
 * The message box. On a keyboard, Enter sends and Shift+Enter starts a new line; on a
 * touch screen Enter starts a new line and the Send button sends. The draft is kept
 * across reloads (lib/storage).
 */
import { Show, createSignal } from "solid-js";
import { codePoints, isBlank } from "../../../src/protocol/text";
import { MAX_FILES_PER_MESSAGE } from "../../../src/protocol/files";
import { loadDraft, saveDraft } from "../lib/storage";
import type { Uploads } from "../store/uploads";
import { AttachButton, UploadList, attachDroppedFiles, pastedFiles } from "./attachments";

/** The counter appears once this few code points are left. */
const COUNTER_FROM = 500;

/** Phones and tablets: no hover, a coarse pointer. */
const touchFirst = () => matchMedia("(hover: none) and (pointer: coarse)").matches;

/** `maxLength`: the server's limit, in code points. Files come in by button, drop or paste (attachments.tsx). */
export function Composer(props: { onSend(content: string, files: string[]): void; maxLength: number; uploads: Uploads }) {
  let box!: HTMLTextAreaElement;
  const [text, setText] = createSignal(loadDraft());
  const [dragging, setDragging] = createSignal(false);
  const length = () => codePoints(text());
  const over = () => length() > props.maxLength;
  const canSend = () => (!isBlank(text()) || props.uploads.ready().length > 0) && !over() && !props.uploads.busy();
  const enterSends = !touchFirst();
  attachDroppedFiles(props.uploads.attach, setDragging);

  function edit(value: string) {
    setText(value);
    saveDraft(value);
  }

  function send() {
    if (!canSend()) return;
    props.onSend(text(), props.uploads.ready());
    props.uploads.clear();
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
      classList={{ dragging: dragging() }}
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <AttachButton onFiles={props.uploads.attach} />
      <div class="composer-main">
      <UploadList uploads={props.uploads.uploads} onRemove={props.uploads.remove} />
      <Show when={props.uploads.leftOut() > 0}>
        <p class="upload-note" role="status">
          A message takes at most {MAX_FILES_PER_MESSAGE} files; {props.uploads.leftOut()} {props.uploads.leftOut() === 1 ? "was" : "were"} left out. Send these first, then attach the rest.
        </p>
      </Show>
      <label for="composer-input" class="sr-only">
        Message
      </label>
      <textarea
        id="composer-input"
        ref={box}
        rows={1}
        placeholder="Write a message"
        value={text()}
        dir="auto"
        onInput={(e) => edit(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        onPaste={(e) => pastedFiles(e, props.uploads.attach)}
        enterkeyhint={enterSends ? "send" : "enter"}
        aria-describedby="composer-hint composer-counter"
        aria-invalid={over() ? "true" : undefined}
      />
      </div>
      <span id="composer-hint" class="sr-only">
        {enterSends ? "Enter sends; Shift+Enter starts a new line. Markdown works." : "Markdown works."} Files can be dropped or pasted here.
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
