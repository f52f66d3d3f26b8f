/**
 * Files attached in the composer, before their message is sent: each starts uploading at
 * once (the client core's uploadFile, with progress), and the message carries the ids of
 * those that finished. Kept apart from the message store: a failed upload never touches
 * the timeline.
 */
import { createSignal } from "solid-js";
import { createStore, produce } from "solid-js/store";
import { MAX_FILES_PER_MESSAGE } from "../../../src/protocol/files";
import type { FileInfo } from "../../../src/protocol/file-info";
import { errorInfo, type ChatClient } from "./client-port";

export interface Upload {
  key: string;
  name: string;
  size: number;
  /** Bytes sent so far. */
  sent: number;
  status: "uploading" | "done" | "failed";
  error: string | null;
  file: FileInfo | null;
  /** A local preview of an image (object URL), revoked when the upload is dropped. */
  preview: string | null;
}

export function createUploads(client: ChatClient) {
  const [uploads, setUploads] = createStore<Upload[]>([]);
  /** How many files of the last attach did not fit in the message (shown until the next change). */
  const [leftOut, setLeftOut] = createSignal(0);
  let next = 0;

  function update(key: string, change: Partial<Upload>) {
    setUploads((u) => u.key === key, change);
  }

  /** Starts uploading each file (at most MAX_FILES_PER_MESSAGE in all). */
  function attach(files: File[]) {
    const taken = files.slice(0, Math.max(0, MAX_FILES_PER_MESSAGE - uploads.length));
    setLeftOut(files.length - taken.length);
    for (const file of taken) {
      const key = `u${++next}`;
      const preview = file.type.startsWith("image/") ? URL.createObjectURL(file) : null;
      const name = file.name || `pasted-${new Date().toISOString().replace(/[:.]/g, "-")}.${file.type.split("/")[1] ?? "bin"}`;
      setUploads(produce((list) => void list.push({ key, name, size: file.size, sent: 0, status: "uploading", error: null, file: null, preview })));
      client
        .uploadFile(file, { name, type: file.type, onProgress: (sent) => update(key, { sent }) })
        .then((info) => update(key, { status: "done", sent: file.size, file: info }))
        .catch((error) => update(key, { status: "failed", error: errorInfo(error).message }));
    }
  }

  function remove(key: string) {
    const upload = uploads.find((u) => u.key === key);
    if (upload?.preview) URL.revokeObjectURL(upload.preview);
    setUploads((list) => list.filter((u) => u.key !== key));
    setLeftOut(0);
  }

  /** True while any upload is still under way (sending waits for it). */
  const busy = () => uploads.some((u) => u.status === "uploading");
  /** The ids of the finished uploads, in the order attached. */
  const ready = () => uploads.filter((u) => u.status === "done").map((u) => u.file!.id);

  /** After sending: the composer starts empty again. */
  function clear() {
    for (const u of uploads) if (u.preview) URL.revokeObjectURL(u.preview);
    setUploads([]);
    setLeftOut(0);
  }

  return { uploads, leftOut, attach, remove, busy, ready, clear };
}

export type Uploads = ReturnType<typeof createUploads>;
