/**
 * Width and height of PNG, JPEG, GIF and WebP images from their first bytes (what
 * receive.ts keeps of an upload), so the web app can size an image before it loads.
 * Anything else, or a header cut short, is null: the dimensions are a display hint, never
 * trusted for anything else.
 */
export interface ImageSize {
  type: "image/png" | "image/jpeg" | "image/gif" | "image/webp";
  width: number;
  height: number;
}

/** How much of the start of a file the parsers may need (JPEG's SOF can follow a 64 KiB EXIF block). */
export const IMAGE_HEAD_BYTES = 256 * 1024;

const MAX_SIDE = 1 << 16;

function sized(type: ImageSize["type"], width: number, height: number): ImageSize | null {
  return width > 0 && height > 0 && width <= MAX_SIDE * 4 && height <= MAX_SIDE * 4 ? { type, width, height } : null;
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

function png(b: Uint8Array, v: DataView): ImageSize | null {
  if (b.length < 24 || ascii(b, 1, 3) !== "PNG" || ascii(b, 12, 4) !== "IHDR") return null;
  return sized("image/png", v.getUint32(16), v.getUint32(20));
}

function gif(b: Uint8Array, v: DataView): ImageSize | null {
  if (b.length < 10 || !/^GIF8[79]a$/.test(ascii(b, 0, 6))) return null;
  return sized("image/gif", v.getUint16(6, true), v.getUint16(8, true));
}

function webp(b: Uint8Array, v: DataView): ImageSize | null {
  if (b.length < 30 || ascii(b, 0, 4) !== "RIFF" || ascii(b, 8, 4) !== "WEBP") return null;
  const chunk = ascii(b, 12, 4);
  if (chunk === "VP8 " && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a)
    return sized("image/webp", v.getUint16(26, true) & 0x3fff, v.getUint16(28, true) & 0x3fff);
  if (chunk === "VP8L" && b[20] === 0x2f) {
    const bits = v.getUint32(21, true);
    return sized("image/webp", (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
  }
  if (chunk === "VP8X") {
    const w = 1 + (b[24] | (b[25] << 8) | (b[26] << 16));
    const h = 1 + (b[27] | (b[28] << 8) | (b[29] << 16));
    return sized("image/webp", w, h);
  }
  return null;
}

/** Walks the JPEG segments to the first start-of-frame marker. */
function jpeg(b: Uint8Array, v: DataView): ImageSize | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let at = 2;
  while (at + 9 < b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return sized("image/jpeg", v.getUint16(at + 7), v.getUint16(at + 5));
    if (marker === 0xd9 || marker === 0xda) return null;
    at += 2 + v.getUint16(at + 2);
  }
  return null;
}

export function imageSize(head: Uint8Array): ImageSize | null {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return png(head, view) ?? gif(head, view) ?? webp(head, view) ?? jpeg(head, view);
}
