/**
 * `roomz listen --download DIR`: each arriving file is saved into DIR under its own name
 * (localName: its last path segment only, whatever the server sends),
 * never over an existing file: a taken name gets " (2)", " (3)"... before its extension.
 */
import { open } from "node:fs/promises";
import { extname, join } from "node:path";
import type { RoomzClient } from "../client/client";
import type { FileInfo } from "../protocol/file-info";

/**
 * The name to save under: the server's name rules already keep it a plain name, but the
 * CLI does not trust a server with the path: only the last segment is used, never "." or "..".
 */
export function localName(name: string): string {
  const last = name.split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, "");
  return last === "" || last === "." || last === ".." ? "download" : last;
}

function candidate(name: string, n: number): string {
  if (n === 1) return name;
  const ext = extname(name);
  return `${name.slice(0, name.length - ext.length)} (${n})${ext}`;
}

/** Saves the file into `dir`, streamed; resolves with the path written. */
export async function saveFile(client: RoomzClient, file: FileInfo, dir: string): Promise<string> {
  const res = await client.downloadFile<Response>(file);
  for (let n = 1; ; n++) {
    const path = join(dir, candidate(localName(file.name), n));
    let handle;
    try {
      handle = await open(path, "wx", 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw error;
    }
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) await handle.write(chunk);
    } finally {
      await handle.close();
    }
    return path;
  }
}
