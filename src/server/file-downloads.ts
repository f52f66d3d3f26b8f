/**
 * `GET /files/<id>` and `/files/<id>/<any name>` (PROTOCOL.md section 7): the owner's file,
 * streamed from the blob store, with ranges, the sha256 as ETag, and headers that keep an
 * uploaded page or SVG from ever running in Roomz's origin (a sandboxing CSP, nosniff, and
 * `attachment` for everything but the raster image types). Anyone else gets 404, for ids
 * that exist and ids that don't alike.
 */
import type { FileRecord, FileStore } from "../engine";
import type { BlobStore, ByteRange } from "../files/blob-store";
import { INLINE_TYPES, isFileId } from "../protocol";
import type { FileAuth } from "./file-auth";
import { problem } from "./problem";

export interface DownloadDeps {
  files: FileStore;
  blobs: BlobStore;
  auth: FileAuth;
}

/** The file id of a /files path, or null when the path can't name one. */
function idOf(path: string): string | null {
  const match = /^\/files\/([^/]+)(?:\/[^/]*)?$/.exec(path);
  return match && isFileId(match[1]) ? match[1] : null;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range); "unsatisfiable", or null to send it all. */
export function parseRange(header: string | null, size: number): ByteRange | "unsatisfiable" | null {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== "" && Number(match[2]) < start) return null; // malformed: ignored (RFC 9110)
  return start >= size ? "unsatisfiable" : { start, end };
}

/** RFC 6266: a plain ASCII fallback and the exact name in `filename*`. */
export function contentDisposition(record: Pick<FileRecord, "name" | "type">): string {
  const kind = INLINE_TYPES.has(record.type) ? "inline" : "attachment";
  const fallback = record.name.replace(/[^A-Za-z0-9._ ()+-]/g, "_");
  const exact = encodeURIComponent(record.name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

function headersOf(record: FileRecord): Record<string, string> {
  return {
    "content-type": record.type,
    etag: `"${record.sha256}"`,
    "cache-control": "private, max-age=31536000, immutable",
    "x-content-type-options": "nosniff",
    "content-security-policy": "sandbox; default-src 'none'",
    "content-disposition": contentDisposition(record),
    "accept-ranges": "bytes",
    "referrer-policy": "no-referrer",
  };
}

function etagMatches(header: string | null, sha256: string): boolean {
  if (!header) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim().replace(/^W\//, "");
    return t === "*" || t === `"${sha256}"`;
  });
}

export async function download(deps: DownloadDeps, request: Request, path: string): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") return problem("method_not_allowed", "Use GET for files.", path, { allow: "GET, HEAD" });
  const auth = await deps.auth.authenticate(request, "read");
  if (!auth.ok) return problem(auth.code, auth.detail, path);
  const id = idOf(path);
  const record = id ? await deps.files.get(auth.email, id) : null;
  if (!record) return problem("not_found", `Nothing is at ${path}.`, path);
  const headers = headersOf(record);
  if (etagMatches(request.headers.get("if-none-match"), record.sha256)) return new Response(null, { status: 304, headers });
  const range = parseRange(request.headers.get("range"), record.size);
  if (range === "unsatisfiable")
    return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${record.size}` } });
  const head = request.method === "HEAD";
  if (range === null) {
    const body = head ? null : await deps.blobs.read(record.sha256, null);
    return new Response(body, { status: 200, headers: { ...headers, "content-length": String(record.size) } });
  }
  const body = head ? null : await deps.blobs.read(record.sha256, range);
  return new Response(body, {
    status: 206,
    headers: { ...headers, "content-range": `bytes ${range.start}-${range.end}/${record.size}`, "content-length": String(range.end - range.start + 1) },
  });
}
