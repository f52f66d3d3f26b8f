/** Sentences the terminal shows: every failure, every connection state, every message. */
import type { ChatMessage } from "../protocol/frames";
import type { FileInfo } from "../protocol/file-info";
import { RoomzError } from "../client/errors";
import { fileSize } from "../client/uploads";
import type { ConnectionState } from "../client/types";
import { safeText } from "./style";

/** A clear sentence for any failure, with what to do next. */
export function explain(error: unknown, server: string): string {
  if (!(error instanceof RoomzError)) return `Something went wrong: ${(error as Error)?.message ?? String(error)}`;
  switch (error.code) {
    case "unreachable":
      return `Can't reach the server at ${server}. Is it running, and is the address right?`;
    case "invalid_token":
      return "That token is not valid: it is unknown or was already used. Type /login <email> for a new one.";
    case "expired_token":
      return "That token has expired. Type /login <email> for a new one.";
    case "unauthenticated":
    case "session_ended":
      return "You are not signed in, or your session has ended. Type /login <email> to sign in.";
    case "not_allowed":
      return "This address is not allowed on this server. Ask its operator to add it.";
    case "rate_limited":
      return error.retryAfterSeconds !== undefined
        ? `Too many requests. Try again in ${formatWait(error.retryAfterSeconds)}.`
        : `Too many requests. ${error.message}`;
    case "invalid_request":
      return `The server refused that: ${error.message}`;
    default:
      return error.message;
  }
}

export function formatWait(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.ceil(seconds))} s`;
  return `${Math.ceil(seconds / 60)} min`;
}

/** A line for a connection state worth showing, or null for the in-between ones. */
export function describeState(state: ConnectionState, server: string): string | null {
  const wait = state.retryInMs !== undefined ? formatWait(state.retryInMs / 1000) : null;
  switch (state.status) {
    case "connected":
      return `Connected to ${server}.`;
    case "reconnecting":
      return wait ? `Connection lost (${state.reason ?? "dropped"}); reconnecting in ${wait}.` : null;
    case "offline":
      return wait ? `Server unreachable at ${server}; retrying in ${wait}.` : null;
    case "stopped":
      return describeStop(state);
    default:
      return null;
  }
}

function describeStop(state: ConnectionState): string | null {
  switch (state.stop) {
    case "signed_out":
      return "The server refused your session. Type /login <email> to sign in again.";
    case "session_ended":
      return "Your session has ended (signed out, maybe on another device, or it expired). Type /login <email> to sign in again.";
    case "not_allowed":
      return "This address is no longer allowed on this server.";
    case "closed":
    case "user_changed": // the command that signed in says so itself
      return null;
    default:
      return `Disconnected: ${state.reason ?? "stopped"}.`;
  }
}

/** `12:03:05 name: content`, continuation lines indented, content shown as plain text. */
export function formatMessage(message: ChatMessage, mine: boolean, linkOf?: (file: FileInfo) => string): string {
  const time = (message.timestamp ?? "").slice(11, 19);
  const who = message.user?.display_name ?? message.user?.email ?? "?";
  const label = mine ? `${who} (this terminal)` : who;
  const indent = " ".repeat(time.length + 1);
  const body = safeText(message.content).replace(/\n/g, `\n${indent}`);
  const files = (message.files ?? []).map((f) => `\n${indent}[file] ${safeText(f.name)} (${fileSize(f.size)})${linkOf ? ` ${linkOf(f)}` : ""}`);
  return `${time} ${safeText(label)}: ${body}${files.join("")}`;
}
