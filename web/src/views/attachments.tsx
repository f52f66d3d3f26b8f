/**
 * Attaching files in the composer: the attach button, pasting and dropping files, and
 * the list of files being uploaded with their progress. (A message's files in the
 * timeline are message-files.tsx.)
 */
import { For, Show, onCleanup, onMount } from "solid-js";
import { fileSize } from "../../../src/client/uploads";
import type { Upload } from "../store/uploads";

/** Files pasted into the message box (an image copied from anywhere) are attached. */
export function pastedFiles(event: ClipboardEvent, attach: (files: File[]) => void): void {
  const files = [...(event.clipboardData?.files ?? [])];
  if (files.length === 0) return;
  event.preventDefault();
  attach(files);
}

/** Drag-and-drop onto the composer: `dragging` shows where files will land. */
/**
 * Files dropped anywhere on the page are attached: a drop the page did not take would
 * make the browser open the file in place of the app. Listens on the window while the
 * composer is mounted; `dragging` lights the composer up while files are held over the page.
 */
export function attachDroppedFiles(attach: (files: File[]) => void, dragging: (on: boolean) => void) {
  const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes("Files");
  const over = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragging(true);
  };
  const leave = (e: DragEvent) => e.relatedTarget === null && dragging(false); // left the window
  const drop = (e: DragEvent) => {
    dragging(false);
    if (!hasFiles(e)) return;
    e.preventDefault();
    attach([...(e.dataTransfer?.files ?? [])]);
  };
  onMount(() => {
    window.addEventListener("dragover", over);
    window.addEventListener("dragleave", leave);
    window.addEventListener("drop", drop);
  });
  onCleanup(() => {
    window.removeEventListener("dragover", over);
    window.removeEventListener("dragleave", leave);
    window.removeEventListener("drop", drop);
  });
}

function PaperclipIcon() {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
      <path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9" />
    </svg>
  );
}

function FileIcon() {
  return (
    <svg class="icon file-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
      <path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z" />
      <path d="M14 3v5h5" />
    </svg>
  );
}

export function AttachButton(props: { onFiles(files: File[]): void; disabled?: boolean }) {
  let input!: HTMLInputElement;
  return (
    <label class="attach-button" title="Attach files" classList={{ disabled: props.disabled }}>
      <input
        ref={input}
        type="file"
        multiple
        class="sr-only"
        disabled={props.disabled}
        aria-label="Attach files"
        onChange={(e) => {
          props.onFiles([...(e.currentTarget.files ?? [])]);
          input.value = "";
        }}
      />
      <PaperclipIcon />
    </label>
  );
}

export function UploadList(props: { uploads: Upload[]; onRemove(key: string): void }) {
  return (
    <Show when={props.uploads.length > 0}>
      <ul class="upload-list" aria-label="Files to send">
        <For each={props.uploads}>
          {(u) => (
            <li class="upload" classList={{ failed: u.status === "failed" }} data-status={u.status}>
              <Show when={u.preview} fallback={<FileIcon />}>
                <img class="upload-thumb" src={u.preview!} alt="" width="40" height="40" />
              </Show>
              <span class="upload-name" title={u.name}>{u.name}</span>
              <span class="upload-size">{fileSize(u.size)}</span>
              <Show when={u.status === "uploading"}>
                <progress max={u.size || 1} value={u.sent} aria-label={`Uploading ${u.name}`} />
              </Show>
              <Show when={u.error}>
                <span class="upload-error" role="alert">{u.error}</span>
              </Show>
              <button type="button" class="quiet-button" aria-label={`Remove ${u.name}`} onClick={() => props.onRemove(u.key)}>
                ×
              </button>
            </li>
          )}
        </For>
      </ul>
    </Show>
  );
}
