/**
 * One bench connection over Bun's WebSocket client, speaking either the Roomz frame format
 * (Roomz and the raw Bun baseline) or Socket.IO's engine.io v4 text packets. The hot path
 * never JSON-parses a `message` frame: it finds the bench marker in the content by string
 * search, so the generator spends its core on sockets rather than on parsing.
 */
export type Kind = "roomz" | "bun" | "socketio";

export interface Handlers {
  onAuthenticated(c: Conn): void;
  /** A chat message carrying the bench marker; `seq` is -1 when the frame has none. */
  onBench(c: Conn, step: number, sentAt: number, fromUser: number, n: number, seq: number): void;
  onAck(c: Conn, seq: number, raw: string): void;
  onError(c: Conn, code: string): void;
  onHistory(c: Conn, raw: string): void;
  onOther(c: Conn, raw: string): void;
  onClose(c: Conn, code: number, wasOpen: boolean): void;
}

export const MARK = '"content":"B|';

export class Conn {
  ws: WebSocket | null = null;
  authenticated = false;
  lastSeq = 0;
  lastN = -1;
  openedAt = 0;
  /** Wall-clock send times of messages not yet acked, oldest first (tracked in S5 only). */
  pending: number[] | null = null;
  constructor(
    public kind: Kind,
    public user: number, // 1-based bench user index
    public slot: number, // 0..connsPerUser-1
    public h: Handlers,
  ) {}

  open(url: string, headers?: Record<string, string>) {
    this.authenticated = false;
    this.openedAt = performance.now();
    const ws = headers ? new WebSocket(url, { headers } as any) : new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (ev) => this.onFrame(ev.data as string);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      const was = this.authenticated;
      this.authenticated = false;
      this.ws = null;
      this.h.onClose(this, ev.code, was);
    };
    ws.onerror = () => {};
  }

  close() {
    const ws = this.ws;
    this.ws = null;
    this.authenticated = false;
    try {
      ws?.close();
    } catch {}
  }

  sendMessage(content: string, clientMsgId: string) {
    const ws = this.ws;
    if (!ws || !this.authenticated) return false;
    if (this.kind === "socketio") ws.send(`42["message",{"content":"${content}","client_msg_id":"${clientMsgId}"}]`);
    else ws.send(`{"type":"message","data":{"content":"${content}","client_msg_id":"${clientMsgId}"}}`);
    return true;
  }

  sendRaw(text: string) {
    this.ws?.send(text);
  }

  private onFrame(s: string) {
    let type: string;
    if (this.kind === "socketio") {
      const c = s.charCodeAt(0);
      if (c === 50 /* "2" ping */) return this.ws?.send("3");
      if (c === 48 /* "0" open */) return this.ws?.send("40");
      if (!s.startsWith('42["')) return; // "40{...}": namespace joined; wait for "authenticated"
      type = s.slice(4, s.indexOf('"', 4));
    } else {
      // The frame's own "type" is the first one: nested data never has a "type" member and a
      // quote inside content is escaped.
      const t = s.indexOf('"type":"');
      type = t < 0 ? "" : s.slice(t + 8, s.indexOf('"', t + 8));
    }
    switch (type) {
      case "message": {
        const at = s.indexOf(MARK);
        if (at >= 0) return this.bench(s, at);
        return this.h.onOther(this, s);
      }
      case "ack":
        return this.h.onAck(this, seqOf(s), s);
      case "authenticated":
        return this.authed();
      case "history":
        return this.h.onHistory(this, s);
      case "error":
      case "error_frame": {
        const m = s.match(/"code":"([^"]+)"/);
        return this.h.onError(this, m ? m[1] : "?");
      }
      default:
        return this.h.onOther(this, s);
    }
  }

  private authed() {
    this.authenticated = true;
    this.h.onAuthenticated(this);
  }

  private bench(s: string, at: number) {
    const start = at + MARK.length;
    const end = s.indexOf('"', start);
    const parts = s.slice(start, end).split("|");
    const seq = seqOf(s);
    if (seq > this.lastSeq) this.lastSeq = seq;
    this.h.onBench(this, +parts[0], +parts[1], +parts[2], +parts[3], seq);
  }
}

/** The first `"seq":<int>` in a frame, or -1. */
export function seqOf(s: string): number {
  const i = s.indexOf('"seq":');
  if (i < 0) return -1;
  let v = 0;
  for (let j = i + 6; j < s.length; j++) {
    const d = s.charCodeAt(j) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  return v;
}
