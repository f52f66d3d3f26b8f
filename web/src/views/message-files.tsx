/**
 * The files of a message (PROTOCOL.md section 7): images the server shows inline as
 * pictures, everything else as a download with its name and size.
 */
import { For, Show } from "solid-js";
import type { FileInfo } from "../../../src/protocol";
import { INLINE_TYPES } from "../../../src/protocol/files";
import { fileSize, fileUrl } from "../../../src/client/uploads";

export function MessageFiles(props: { files: FileInfo[] | undefined }) {
  return (
    <Show when={props.files?.length}>
      <ul class="files" aria-label="Files">
        <For each={props.files}>
          {(file) => (
            <li>
              <Show
                when={INLINE_TYPES.has(file.type)}
                fallback={
                  <a class="file" href={fileUrl("", file)} download={file.name}>
                    <span class="file-name">{file.name}</span> <span class="file-size">{fileSize(file.size)}</span>
                  </a>
                }
              >
                <a href={fileUrl("", file)} target="_blank" rel="noopener">
                  <img
                    class="file-image"
                    src={fileUrl("", file)}
                    alt={file.name}
                    loading="lazy"
                    width={file.width ?? undefined}
                    height={file.height ?? undefined}
                  />
                </a>
              </Show>
            </li>
          )}
        </For>
      </ul>
    </Show>
  );
}
