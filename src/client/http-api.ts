/**
 * The HTTP half of the contract (PROTOCOL.md section 1): sign-in and session requests.
 * Non-2xx answers become RoomzError; a fetch that throws becomes `unreachable`.
 */
import { errorFromResponse, RoomzError, unreachable } from "./errors.js";
import type { FetchLike, FetchResponse, MeResult, VerifyResult } from "./types.js";
import { httpUrl } from "./urls.js";
import type { ServerLimits } from "../protocol/text.js";

export class HttpApi {
  constructor(
    private server: string,
    private fetchImpl: FetchLike,
    private session: () => string | null,
  ) {}

  async requestMagicLink(email: string): Promise<void> {
    await this.request("POST", "/auth/request-magic-link", { email });
  }

  async verifyToken(token: string): Promise<VerifyResult> {
    const body = (await this.request("POST", "/auth/verify", { token }, false)) as Partial<VerifyResult>;
    if (typeof body.session !== "string" || !body.user) throw new RoomzError("bad_response", "The server's sign-in answer was not understood.");
    return body as VerifyResult;
  }

  async me(): Promise<MeResult> {
    return (await this.request("GET", "/auth/me")) as MeResult;
  }

  async limits(): Promise<ServerLimits> {
    return (await this.request("GET", "/api/limits", undefined, false)) as ServerLimits;
  }

  async logout(): Promise<void> {
    await this.request("POST", "/auth/logout");
  }

  async logoutAll(): Promise<void> {
    await this.request("POST", "/auth/logout-all");
  }

  private async request(method: string, path: string, body?: unknown, authorize = true): Promise<unknown> {
    const headers: Record<string, string> = { accept: "application/json" };
    const session = this.session();
    if (authorize && session) headers.authorization = `Bearer ${session}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: FetchResponse;
    try {
      res = await this.fetchImpl(httpUrl(this.server, path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch (error) {
      throw unreachable(this.server, error);
    }
    if (!res.ok) throw await errorFromResponse(res);
    try {
      return await res.json();
    } catch {
      return {};
    }
  }
}
