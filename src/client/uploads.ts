/**
 * Uploading a file (PROTOCOL.md section 7): `POST /api/files?name=...` with the raw body,
 * streamed by the runtime (a Blob or File, Bun.file, a ReadableStream, or bytes). With
 * `onProgress` in a browser the upload goes through XMLHttpRequest, whose upload events
 * are the only progress a browser reports for a request body.
 */
import { errorFromResponse, RoomzError, unreachable } from "./errors.js";
import type { FetchLike, FetchResponse, UploadOptions } from "./types.js";
import { httpUrl } from "./urls.js";
import type { FileInfo } from "../protocol/file-info.js";

/** fetch as used for a body that is not a string (the injected one is typed for JSON only). */
type BodyFetch = (url: string, init: { method: string; headers: Record<string, string>; body: unknown; duplex?: "half"; credentials?: "same-origin" }) => Promise<FetchResponse>;

interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  status: number;
  responseText: string;
  getResponseHeader(name: string): string | null;
}

function uploadPath(name: string): string {
  return `/api/files?name=${encodeURIComponent(name)}`;
}

function headersFor(options: UploadOptions, session: string | null): Record<string, string> {
  const headers: Record<string, string> = { accept: "application/json", "content-type": options.type || "application/octet-stream" };
  if (session) headers.authorization = `Bearer ${session}`;
  return headers;
}

async function fileFrom(res: FetchResponse): Promise<FileInfo> {
  if (!res.ok) throw await errorFromResponse(res);
  const body = (await res.json()) as Partial<FileInfo>;
  if (typeof body.id !== "string" || typeof body.sha256 !== "string") throw new RoomzError("bad_response", "The server's upload answer was not understood.");
  return body as FileInfo;
}

export async function uploadFile(server: string, fetchImpl: FetchLike, session: string | null, body: unknown, options: UploadOptions): Promise<FileInfo> {
  const XHR = (globalThis as { XMLHttpRequest?: new () => XhrLike }).XMLHttpRequest;
  if (options.onProgress && XHR) return uploadWithProgress(new XHR(), server, session, body, options);
  let res: FetchResponse;
  try {
    const streamed = typeof (body as { getReader?: unknown })?.getReader === "function";
    res = await (fetchImpl as unknown as BodyFetch)(httpUrl(server, uploadPath(options.name)), {
      method: "POST",
      headers: headersFor(options, session),
      body,
      credentials: "same-origin",
      ...(streamed ? { duplex: "half" as const } : {}),
    });
  } catch (error) {
    throw unreachable(server, error);
  }
  return fileFrom(res);
}

function uploadWithProgress(xhr: XhrLike, server: string, session: string | null, body: unknown, options: UploadOptions): Promise<FileInfo> {
  return new Promise((resolve, reject) => {
    xhr.open("POST", httpUrl(server, uploadPath(options.name)));
    for (const [name, value] of Object.entries(headersFor(options, session))) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => options.onProgress?.(event.loaded, event.lengthComputable ? event.total : -1);
    xhr.onerror = () => reject(unreachable(server, new Error("the upload failed")));
    xhr.onload = () => {
      const text = xhr.responseText;
      const res: FetchResponse = {
        ok: xhr.status >= 200 && xhr.status < 300,
        status: xhr.status,
        headers: { get: (name) => xhr.getResponseHeader(name), has: (name) => xhr.getResponseHeader(name) !== null },
        json: async () => JSON.parse(text),
      };
      fileFrom(res).then(resolve, reject);
    };
    xhr.send(body);
  });
}

/**
 * Reads a file: the fetch answer (its body streams) once it is 2xx, else a RoomzError
 * (`not_found` for a file that is not this user's).
 */
export async function downloadFile<R extends FetchResponse>(server: string, fetchImpl: FetchLike, session: string | null, file: Pick<FileInfo, "id" | "name">): Promise<R> {
  const headers: Record<string, string> = {};
  if (session) headers.authorization = `Bearer ${session}`;
  let res: FetchResponse;
  try {
    res = await fetchImpl(fileUrl(server, file), { method: "GET", headers, credentials: "same-origin" });
  } catch (error) {
    throw unreachable(server, error);
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res as R;
}

/** "812 B", "1.4 MB": a file's size in decimal units, as file managers show it (web app and terminal alike). */
export function fileSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) (value /= 1000), unit++;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** Where a file is read: `/files/<id>/<name>` (the name only makes saved copies look right). */
export function fileUrl(server: string, file: Pick<FileInfo, "id" | "name">): string {
  return httpUrl(server, `/files/${encodeURIComponent(file.id)}/${encodeURIComponent(file.name)}`);
}
