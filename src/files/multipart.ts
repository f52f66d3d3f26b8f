/**
 * `multipart/form-data` with one file part, read as a stream: the part's headers are
 * parsed (at most 16 KiB of them), then its bytes flow through as they arrive, holding
 * back only enough to recognise the closing boundary. A body with a second part, or one
 * that ends inside the part, is refused (MultipartError).
 */
export class MultipartError extends Error {}

export interface FilePart {
  name: string | null;
  type: string | null;
  bytes: AsyncIterable<Uint8Array>;
}

const HEADERS_MAX = 16 * 1024;
const CRLF2 = Buffer.from("\r\n\r\n");

/** The boundary of a multipart/form-data Content-Type, or null for another type. */
export function multipartBoundary(contentType: string | null): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : null;
}

/** The file name of a part's Content-Disposition (`filename*` preferred), or null. */
function fileNameOf(headers: string): string | null {
  const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? "";
  const extended = /filename\*=utf-8''([^;\s]+)/i.exec(disposition);
  if (extended) {
    try {
      return decodeURIComponent(extended[1]);
    } catch {
      return null;
    }
  }
  const quoted = /filename="((?:[^"\\]|\\.)*)"/i.exec(disposition);
  if (quoted) return quoted[1].replace(/\\(.)/g, "$1").replace(/%22/g, '"').replace(/%0D/gi, "\r").replace(/%0A/gi, "\n");
  return /filename=([^;\s"]+)/i.exec(disposition)?.[1] ?? null;
}

export async function filePart(body: AsyncIterable<Uint8Array>, boundary: string): Promise<FilePart> {
  const input = body[Symbol.asyncIterator]();
  const opening = Buffer.from(`--${boundary}\r\n`);
  let buffer = Buffer.alloc(0);
  let start = -1;
  let headersEnd = -1;
  while (headersEnd < 0) {
    const next = await input.next();
    if (next.done) throw new MultipartError("The form ended before its file part.");
    buffer = Buffer.concat([buffer, next.value]);
    if (start < 0) start = buffer.indexOf(opening);
    if (start >= 0) headersEnd = buffer.indexOf(CRLF2, start);
    if (buffer.length > HEADERS_MAX && headersEnd < 0) throw new MultipartError("The form's part headers are too long.");
  }
  const headers = buffer.subarray(start + opening.length, headersEnd).toString("utf8");
  const type = /^content-type:\s*(.*)$/im.exec(headers)?.[1].trim() ?? null;
  return { name: fileNameOf(headers), type, bytes: partBytes(input, buffer.subarray(headersEnd + 4), Buffer.from(`\r\n--${boundary}`)) };
}

async function* partBytes(input: AsyncIterator<Uint8Array>, first: Buffer, closing: Buffer): AsyncGenerator<Uint8Array> {
  let pending = first;
  for (;;) {
    const at = pending.indexOf(closing);
    if (at >= 0) {
      if (at > 0) yield pending.subarray(0, at);
      return checkEnd(input, pending.subarray(at + closing.length));
    }
    const keep = closing.length - 1;
    if (pending.length > keep) {
      yield pending.subarray(0, pending.length - keep);
      pending = pending.subarray(pending.length - keep);
    }
    const next = await input.next();
    if (next.done) throw new MultipartError("The form ended inside its file part.");
    pending = Buffer.concat([pending, next.value]);
  }
}

/** After the part: only the closing `--` (and an epilogue) may follow, not another part. */
async function checkEnd(input: AsyncIterator<Uint8Array>, tail: Buffer): Promise<void> {
  while (tail.length < 2) {
    const next = await input.next();
    if (next.done) break;
    tail = Buffer.concat([tail, next.value]);
  }
  if (tail.subarray(0, 2).toString() !== "--") throw new MultipartError("Send one file part only.");
  let epilogue = 0;
  for (let next = await input.next(); !next.done; next = await input.next()) {
    epilogue += next.value.byteLength;
    if (epilogue > HEADERS_MAX) throw new MultipartError("The form goes on after its file part.");
  }
}
