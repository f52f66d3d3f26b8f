/**
 * A file as messages and `POST /api/files` carry it (PROTOCOL.md section 7). On its own
 * so the client library's build takes the shape without the server's text rules.
 */
export interface FileInfo {
  id: string;
  name: string;
  type: string;
  size: number;
  /** Lowercase hex. */
  sha256: string;
  width: number | null;
  height: number | null;
}
