/** The shape of the UI's state, held in one Solid store (see store/index.ts). */
import { DEFAULT_MAX_MESSAGE_LENGTH, type ChatMessage, type ConnectionInfo, type ServerLimits } from "../../../src/protocol";
import type { ConnectionStatus } from "./client-port";

export type Phase = "loading" | "unreachable" | "signed-out" | "chat";

export interface SignInState {
  /** "resending": asking for another link from the "check your email" page. */
  status: "idle" | "sending" | "sent" | "resending";
  email: string;
  /** A sentence to show above the form, or null. */
  error: string | null;
  /** When rate limited: the time (ms) before which asking again is pointless. */
  retryAt: number | null;
  /** Why the user landed back on the sign-in page (a failed link, an ended session). */
  notice: string | null;
}

/** A quiet line in the timeline: another device joined or left. */
export interface Notice {
  id: number;
  text: string;
  timestamp: string;
  /** Shown after the message with this seq (0: before every message). */
  afterSeq: number;
}

/** A message typed here that the server has not yet confirmed. */
export interface Outgoing {
  clientMsgId: string;
  content: string;
  status: "sending" | "failed";
  error: string | null;
  createdAt: string;
  /** The ids of its attachments (already uploaded). */
  files?: string[];
}

export interface ChatState {
  email: string;
  connectionId: string | null;
  /** This tab's connections, the current one included (messages from any are "this device"). */
  ownIds: string[];
  connection: { status: ConnectionStatus; retryAt: number | null; reason: string | null };
  messages: ChatMessage[];
  notices: Notice[];
  outgoing: Outgoing[];
  devices: ConnectionInfo[];
  ownName: string | null;
  nameError: string | null;
  /** `hasMore`: older messages exist beyond the window; `hasNewer`: newer ones do. */
  history: { loading: boolean; hasMore: boolean; hasNewer: boolean; error: string | null; loaded: boolean };
  /** Whether the reader is at the newest message (the timeline says so as they scroll). */
  atBottom: boolean;
  /** Messages that arrived while the reader was elsewhere (the "jump to latest" count). */
  unseen: number;
  /** Where the timeline should scroll to next (after a jump or a send), or null. seq -1: the end. */
  target: { seq: number; at: "start" | "end" } | null;
  /** A problem to show above the timeline (logout failed, connection refused), or null. */
  banner: string | null;
  /** Whether the banner offers to connect again. */
  bannerRetry: boolean;
  /** The latest line for the screen-reader live region. */
  announcement: string;
  /** Whether this tab has heard `authenticated` yet (until then the device list is unknown). */
  authenticated: boolean;
}

export interface AppState {
  phase: Phase;
  /** The server's limits, learned at start (defaults until then). */
  limits: ServerLimits;
  signIn: SignInState;
  chat: ChatState;
}

export function initialChat(): ChatState {
  return {
    email: "",
    connectionId: null,
    ownIds: [],
    connection: { status: "idle", retryAt: null, reason: null },
    messages: [],
    notices: [],
    outgoing: [],
    devices: [],
    ownName: null,
    nameError: null,
    history: { loading: false, hasMore: false, hasNewer: false, error: null, loaded: false },
    atBottom: true,
    unseen: 0,
    target: null,
    banner: null,
    bannerRetry: false,
    announcement: "",
    authenticated: false,
  };
}

export function initialState(): AppState {
  return {
    phase: "loading",
    limits: { max_message_length: DEFAULT_MAX_MESSAGE_LENGTH, max_frame_bytes: 65536, message_rate_limit: 50 },
    signIn: { status: "idle", email: "", error: null, retryAt: null, notice: null },
    chat: initialChat(),
  };
}
