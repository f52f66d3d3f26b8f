/**
 * The HTTP half of the contract (PROTOCOL.md sections 1, 6 and 8): sign-in and session
 * requests, access tokens, posting a message over HTTP, and Web Push subscriptions.
 * Non-2xx answers become RoomzError; a fetch that throws becomes `unreachable`.
 */
import { errorFromResponse, RoomzError, unreachable } from "./errors.js";
import type { FetchLike, FetchResponse, MeResult, PostedMessage, PushSubscriptionData, VerifyResult } from "./types.js";
import type { CreatedToken, TokenInfo, TokenScope } from "../protocol/tokens.js";
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

  /** The server's VAPID public key (base64url), for `pushManager.subscribe`. */
  async pushKey(): Promise<string> {
    const body = (await this.request("GET", "/api/push/key", undefined, false)) as { public_key?: unknown };
    if (typeof body.public_key !== "string") throw new RoomzError("bad_response", "The server's push key was not understood.");
    return body.public_key;
  }

  /** Registers this browser's push subscription with the session (PROTOCOL.md section 8). */
  async registerPush(subscription: PushSubscriptionData, device: string): Promise<void> {
    await this.request("POST", "/api/push/subscriptions", { subscription, device });
  }

  async unregisterPush(endpoint: string): Promise<void> {
    await this.request("DELETE", "/api/push/subscriptions", { endpoint });
  }

  /** `POST /auth/tokens` (a session only): the secret is in the answer, this once. */
  async createToken(name: string, scope: TokenScope, expiresInDays: number | null): Promise<CreatedToken> {
    return (await this.request("POST", "/auth/tokens", { name, scope, expires_in_days: expiresInDays })) as CreatedToken;
  }

  async listTokens(): Promise<TokenInfo[]> {
    return ((await this.request("GET", "/auth/tokens")) as { tokens: TokenInfo[] }).tokens;
  }

  async revokeToken(id: string): Promise<void> {
    await this.request("DELETE", `/auth/tokens/${encodeURIComponent(id)}`);
  }

  /** `POST /api/messages`: stored (or the original, `duplicate: true`) before it answers. */
  async postMessage(content: string, clientMsgId: string, files: string[]): Promise<PostedMessage> {
    const body = files.length > 0 ? { content, client_msg_id: clientMsgId, files } : { content, client_msg_id: clientMsgId };
    return (await this.request("POST", "/api/messages", body)) as PostedMessage;
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
