/**
 * Who may upload and read files. Until the shared request authentication (access tokens,
 * issue 15) lands this is the session alone; the routes only see `FileAuth`.
 */
import type { Sessions } from "./sessions";

export type FileNeed = "send" | "read";
export type FileAuthResult = { ok: true; email: string } | { ok: false; code: "unauthenticated" | "not_allowed"; detail: string };

export interface FileAuth {
  authenticate(request: Request, need: FileNeed): Promise<FileAuthResult>;
}

export function sessionFileAuth(sessions: Sessions): FileAuth {
  return {
    async authenticate(request) {
      const auth = await sessions.authenticate(request);
      return auth.ok ? { ok: true, email: auth.claims.email } : auth;
    },
  };
}
