/**
 * Who may upload and read files: the shared request authentication (request-auth.ts), a
 * session or an access token whose scope allows it (`send` uploads, `read` reads; `full`
 * both). The routes only see `FileAuth`.
 */
import type { RequestAuth } from "./request-auth";

export type FileNeed = "send" | "read";
export type FileAuthResult = { ok: true; email: string } | { ok: false; code: "unauthenticated" | "not_allowed" | "insufficient_scope"; detail: string };

export interface FileAuth {
  authenticate(request: Request, need: FileNeed): Promise<FileAuthResult>;
}

export function requestFileAuth(auth: RequestAuth): FileAuth {
  return {
    async authenticate(request, need) {
      const result = await auth.authenticate(request, need);
      return result.ok ? { ok: true, email: result.principal.email } : result;
    },
  };
}
