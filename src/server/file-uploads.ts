/**
 * `POST /api/files` (PROTOCOL.md section 7): the body (raw with `?name=`, or one
 * multipart part) streams into a private temporary file, hashed and counted on the way;
 * then the engine records it within the user's quota, and the blob store takes the file.
 * Over MAX_FILE_BYTES nothing is stored: a declared length is refused before reading, a
 * streamed body as soon as it passes the limit (its partial file removed).
 */
import { rm } from "node:fs/promises";
import type { FileRecord, FileStore } from "../engine";
import type { BlobStore } from "../files/blob-store";
import { imageSize } from "../files/image-size";
import type { KeyedLock } from "../files/keyed-lock";
import { MultipartError, filePart, multipartBoundary } from "../files/multipart";
import { NoRoom, TooLarge, receiveToTemp, type Received } from "../files/receive";
import { fileNameProblem, mediaType, type FileInfo } from "../protocol";
import type { Config } from "./config";
import type { FileAuth } from "./file-auth";
import { json, problem } from "./problem";
import { originAllowed } from "./request";

export interface UploadDeps {
  config: Config;
  files: FileStore;
  blobs: BlobStore;
  auth: FileAuth;
  blobLock: KeyedLock;
  inFlight: UploadsInFlight;
}

/**
 * The bytes each user's uploads still arriving on this instance have written to disk. The
 * quota is checked again when a file is recorded; this keeps parallel uploads (or chunked
 * ones, which declare no size) from filling the disk before that: together they may use
 * only the room the quota leaves.
 */
export class UploadsInFlight {
  private bytes = new Map<string, number>();

  /**
   * One upload of `email`'s: `take(n)` counts n more of its bytes if all of theirs in flight
   * stay within `room`; `release()`, once it is recorded or dropped, forgets its bytes.
   */
  begin(email: string, room: number) {
    let mine = 0;
    return {
      take: (n: number): boolean => {
        const all = (this.bytes.get(email) ?? 0) + n;
        if (all > room) return false;
        this.bytes.set(email, all);
        mine += n;
        return true;
      },
      release: (): void => {
        const left = (this.bytes.get(email) ?? 0) - mine;
        if (left > 0) this.bytes.set(email, left);
        else this.bytes.delete(email);
      },
    };
  }
}

const PATH = "/api/files";
/** Room for a multipart body's boundaries and part headers on top of MAX_FILE_BYTES. */
const MULTIPART_OVERHEAD = 16 * 1024;

interface Source {
  name: string;
  type: string;
  bytes: AsyncIterable<Uint8Array>;
}

/** Where the name, type and bytes come from: the query and headers, or the one form part. */
async function sourceOf(request: Request, url: URL): Promise<Source | Response> {
  const body = (request.body ?? []) as AsyncIterable<Uint8Array>;
  const contentType = request.headers.get("content-type");
  const boundary = multipartBoundary(contentType);
  if (boundary === null) return { name: url.searchParams.get("name") ?? "", type: mediaType(contentType), bytes: body };
  try {
    const part = await filePart(body, boundary);
    return { name: url.searchParams.get("name") ?? part.name ?? "", type: mediaType(part.type), bytes: part.bytes };
  } catch (error) {
    if (error instanceof MultipartError) return problem("invalid_request", error.message, PATH);
    throw error;
  }
}

function tooLarge(config: Config): Response {
  return problem("too_large", `Files are at most ${config.maxFileBytes} bytes on this server; nothing was stored.`, PATH);
}

function quotaExceeded(config: Config): Response {
  return problem("quota_exceeded", `Your files would pass your quota of ${config.userQuotaBytes} bytes; send a smaller file. Files already sent are kept, so only the server's operator can make room (USER_QUOTA_BYTES).`, PATH);
}

export async function upload(deps: UploadDeps, request: Request): Promise<Response> {
  const { config, files } = deps;
  if (!originAllowed(config, request)) return problem("bad_origin", "This request came from another site; use Roomz from its own address.", PATH);
  const auth = await deps.auth.authenticate(request, "send");
  if (!auth.ok) return problem(auth.code, auth.detail, PATH);
  const declared = Number(request.headers.get("content-length") ?? NaN);
  const multipart = multipartBoundary(request.headers.get("content-type")) !== null;
  if (declared > config.maxFileBytes + (multipart ? MULTIPART_OVERHEAD : 0)) return tooLarge(config);
  const room = config.userQuotaBytes - (await files.usage(auth.email));
  if (Number.isFinite(declared) && declared > room + (multipart ? MULTIPART_OVERHEAD : 0)) return quotaExceeded(config);
  const source = await sourceOf(request, new URL(request.url));
  if (source instanceof Response) return source;
  const nameProblem = fileNameProblem(source.name);
  if (nameProblem) return problem("invalid_request", nameProblem, PATH);
  const inFlight = deps.inFlight.begin(auth.email, room);
  try {
    return await receiveAndStore(deps, auth.email, source, inFlight.take);
  } finally {
    inFlight.release(); // recorded (and counted in usage) or dropped by now
  }
}

async function receiveAndStore(deps: UploadDeps, email: string, source: Source, take: (n: number) => boolean): Promise<Response> {
  const { config } = deps;
  let received: Received;
  try {
    received = await receiveToTemp(source.bytes, deps.blobs.tempDir, config.maxFileBytes, take);
  } catch (error) {
    if (error instanceof TooLarge) return tooLarge(config);
    if (error instanceof NoRoom) return quotaExceeded(config);
    if (error instanceof MultipartError) return problem("invalid_request", error.message, PATH);
    throw error;
  }
  const record = describe(email, source, received);
  const stored = await store(deps, record, received.path);
  if (stored === "quota_exceeded") return quotaExceeded(config);
  const { id, name, type, size, sha256, width, height } = record;
  const body: FileInfo = { id, name, type, size, sha256, width, height };
  return json(body, 201, { location: `/files/${id}` });
}

/** The record of a received upload. A type the client left generic is taken from the image's own bytes. */
function describe(email: string, source: Source, received: Received): FileRecord {
  const image = imageSize(received.head);
  const type = source.type === "application/octet-stream" && image ? image.type : source.type;
  return {
    id: crypto.randomUUID(),
    email,
    name: source.name,
    type,
    size: received.size,
    sha256: received.sha256,
    width: image?.width ?? null,
    height: image?.height ?? null,
    createdAt: Date.now(),
  };
}

/**
 * Records the file (within the quota), then moves its bytes into the blob store, under the
 * content's lock so a cleanup of the same content can't delete them in between.
 */
async function store(deps: UploadDeps, record: FileRecord, tempPath: string): Promise<"ok" | "quota_exceeded"> {
  return deps.blobLock.run(record.sha256, async () => {
    try {
      const added = await deps.files.add(record, deps.config.userQuotaBytes);
      if (added !== "ok") return added;
      try {
        await deps.blobs.putFile(record.sha256, tempPath);
      } catch (error) {
        const removed = await deps.files.removeOrphan(record.email, record.id);
        if (removed?.lastOfBlob) await deps.blobs.delete(record.sha256).catch(() => {});
        throw error;
      }
      return "ok";
    } finally {
      await rm(tempPath, { force: true });
    }
  });
}
