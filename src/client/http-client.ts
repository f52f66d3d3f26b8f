/**
 * The client's plain HTTP calls, each one request that leaves the connection alone:
 * sign-in links, limits, Web Push, files, posting over HTTP and access tokens.
 * RoomzClient extends it with the connection's state machine and with the calls that
 * change what the connection uses (verifying a link, `me`, logging out).
 */
import { HttpApi } from "./http-api.js";
import { randomId } from "./ids.js";
import type { ServerLimits } from "../protocol/text.js";
import type { CreatedToken, TokenInfo, TokenScope } from "../protocol/tokens.js";
import type { FileInfo } from "../protocol/file-info.js";
import type { FetchLike, FetchResponse, PostedMessage, PushSubscriptionData, RoomzClientOptions, UploadOptions } from "./types.js";
import { downloadFile, fileUrl, uploadFile } from "./uploads.js";
import { normalizeServer } from "./urls.js";

export class RoomzHttpClient {
  protected readonly server: string;
  /** The session (or access token) every request and connection carries. */
  protected session: string | null;
  /** The access token this client was made with (then `session` holds it too), or null. */
  protected readonly token: string | null;
  protected readonly http: HttpApi;
  protected readonly fetchImpl: FetchLike;

  constructor(options: RoomzClientOptions) {
    this.server = normalizeServer(options.server);
    this.token = options.token ?? null;
    this.session = this.token ?? options.session ?? null;
    this.fetchImpl = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.http = new HttpApi(this.server, this.fetchImpl, () => this.session);
  }

  async requestMagicLink(email: string): Promise<void> {
    await this.http.requestMagicLink(email);
  }

  /** The limits the server was configured with (message length, frame size, rate). */
  limits(): Promise<ServerLimits> {
    return this.http.limits();
  }

  /** Web Push (PROTOCOL.md section 8): the server's VAPID key, and this browser's subscription. */
  pushKey(): Promise<string> {
    return this.http.pushKey();
  }

  registerPush(subscription: PushSubscriptionData, device: string): Promise<void> {
    return this.http.registerPush(subscription, device);
  }

  unregisterPush(endpoint: string): Promise<void> {
    return this.http.unregisterPush(endpoint);
  }

  /** Uploads a file (`POST /api/files`, streamed); it stays unsent until a message names it. */
  uploadFile(body: unknown, options: UploadOptions): Promise<FileInfo> {
    return uploadFile(this.server, this.fetchImpl, this.session, body, options);
  }

  /**
   * Reads a file (the fetch answer, its body streaming). Type it as your runtime's
   * Response: `client.downloadFile<Response>(file)`.
   */
  downloadFile<R extends FetchResponse = FetchResponse>(file: Pick<FileInfo, "id" | "name">): Promise<R> {
    return downloadFile<R>(this.server, this.fetchImpl, this.session, file);
  }

  /** Where a file is read (the owner's session or cookie is needed, like any request). */
  fileUrl(file: Pick<FileInfo, "id" | "name">): string {
    return fileUrl(this.server, file);
  }

  /**
   * Posts one message over HTTP (`POST /api/messages`), without a WebSocket: what a script
   * with a `send` token does. Safe to retry: the same `clientMsgId` stores one message.
   */
  async post(content: string, options: { clientMsgId?: string; files?: string[] } = {}): Promise<PostedMessage> {
    return this.http.postMessage(content, options.clientMsgId ?? randomId(), options.files ?? []);
  }

  /** Creates an access token (needs a session; PROTOCOL.md section 6). Its secret is shown this once. */
  createToken(name: string, scope: TokenScope = "send", expiresInDays: number | null = null): Promise<CreatedToken> {
    return this.http.createToken(name, scope, expiresInDays);
  }

  /** The user's live tokens, newest first (without their secrets). */
  listTokens(): Promise<TokenInfo[]> {
    return this.http.listTokens();
  }

  /** Revokes a token at once, on every instance; its sockets and streams close. */
  revokeToken(id: string): Promise<void> {
    return this.http.revokeToken(id);
  }
}
