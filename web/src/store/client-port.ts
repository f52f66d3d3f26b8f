/**
 * The part of the client core (src/client) that the UI uses. The store depends on this
 * shape only, so views and store can be exercised with any object that behaves the same.
 */
import type { AuthenticatedData, ChatMessage, MessageAck, ServerLimits } from "../../../src/protocol";
import type { ConnectionState, ConnectionStatus, MeResult, RestoredSend, RoomzEvents, StopCode, UploadOptions } from "../../../src/client/types";
import type { FileInfo } from "../../../src/protocol/file-info";
import type { PushApi } from "../lib/web-push";
import type { CreatedToken, TokenInfo, TokenScope } from "../../../src/protocol/tokens";

export type { ConnectionState, ConnectionStatus, StopCode };

export interface ChatClient extends PushApi {
  requestMagicLink(email: string): Promise<unknown>;
  me(): Promise<MeResult>;
  limits(): Promise<ServerLimits>;
  connect(): Promise<AuthenticatedData>;
  send(content: string, clientMsgId?: string, files?: string[]): Promise<MessageAck>;
  uploadFile(body: Blob, options: UploadOptions): Promise<FileInfo>;
  fileUrl(file: Pick<FileInfo, "id" | "name">): string;
  setDisplayName(name: string | null): Promise<string | null>;
  history(options: { before?: number; limit?: number }): Promise<{ messages: ChatMessage[]; has_more: boolean }>;
  logout(): Promise<unknown>;
  listTokens(): Promise<TokenInfo[]>;
  createToken(name: string, scope: TokenScope, expiresInDays: number | null): Promise<CreatedToken>;
  revokeToken(id: string): Promise<void>;
  logoutAll(): Promise<unknown>;
  close(): void;
  /** The highest seq this client has seen (the channel's head once connected). */
  readonly lastSeq: number;
  /** Messages queued again from the outbox storage at start (each once). */
  restoredSends(): RestoredSend[];
  on<K extends keyof RoomzEvents>(event: K, handler: (data: RoomzEvents[K]) => void): () => void;
}

/** What the UI reads from a RoomzError (or any thrown value). */
export interface ErrorInfo {
  code: string;
  status?: number;
  retryAfterSeconds?: number;
  message: string;
}

export function errorInfo(error: unknown): ErrorInfo {
  if (error && typeof error === "object") {
    const e = error as Partial<ErrorInfo> & { name?: string };
    return {
      code: typeof e.code === "string" ? e.code : "unknown",
      status: typeof e.status === "number" ? e.status : undefined,
      retryAfterSeconds: typeof e.retryAfterSeconds === "number" ? e.retryAfterSeconds : undefined,
      message: typeof e.message === "string" && e.message ? e.message : "Something went wrong.",
    };
  }
  return { code: "unknown", message: String(error ?? "Something went wrong.") };
}
