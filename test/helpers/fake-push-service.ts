/**
 * A local stand-in for a browser's push service (FCM, Mozilla autopush): a tiny Bun server
 * that records every push request, answering each endpoint the way the test asks (201,
 * 410, a redirect, or never). `browserSubscription()` plays the browser's side of RFC
 * 8291: an ECDH P-256 key pair and an auth secret, and the decryption of an aes128gcm
 * body with them (http_ece). `verifyVapid` checks an RFC 8292 Authorization header: an
 * ES256 JWT verified with WebCrypto against the server's public key.
 */
import { createECDH, randomBytes } from "node:crypto";
import type { Server } from "bun";
// @ts-expect-error http_ece ships no types
import ece from "http_ece";
import { until, Wakeup } from "./wait";

export interface PushRequest {
  path: string;
  method: string;
  headers: Headers;
  body: Buffer;
}

/** 201 (the push service took it), 410 (gone), "redirect" (302 to /elsewhere), "hang" (no answer). */
export type EndpointMode = 201 | 404 | 410 | "redirect" | "hang";

export class FakePushService {
  requests: PushRequest[] = [];
  private modes = new Map<string, EndpointMode>();
  private hanging: Array<() => void> = [];
  private readonly arrivals = new Wakeup();
  private server: Server<undefined>;

  constructor() {
    this.server = Bun.serve({ port: 0, hostname: "127.0.0.1", idleTimeout: 0, fetch: (request) => this.handle(request) });
  }

  get origin(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** A new endpoint URL on this service, answering as `mode`. */
  endpoint(mode: EndpointMode = 201): string {
    const path = `/push/${crypto.randomUUID()}`;
    this.modes.set(path, mode);
    return `${this.origin}${path}`;
  }

  to(endpoint: string): PushRequest[] {
    const path = new URL(endpoint).pathname;
    return this.requests.filter((r) => r.path === path);
  }

  waitFor(endpoint: string, count = 1): Promise<PushRequest[]> {
    return until(() => (this.to(endpoint).length >= count ? this.to(endpoint) : false), `${count} pushes to ${endpoint}`, { timeoutMs: 15_000, wakeup: this.arrivals });
  }

  private async handle(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    this.requests.push({ path, method: request.method, headers: request.headers, body: Buffer.from(await request.arrayBuffer()) });
    this.arrivals.wake();
    const mode = this.modes.get(path) ?? 404;
    if (mode === "hang") return new Promise((resolve) => this.hanging.push(() => resolve(new Response(null, { status: 201 }))));
    if (mode === "redirect") return new Response(null, { status: 302, headers: { location: `${this.origin}/elsewhere` } });
    return new Response(null, { status: mode });
  }

  stop() {
    for (const release of this.hanging) release();
    this.server.stop(true);
  }
}

/** A browser's push subscription keys (RFC 8291), and the decryption of what is pushed to it. */
export function browserSubscription(endpoint: string) {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return {
    json: { endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") } },
    decrypt(body: Buffer): unknown {
      return JSON.parse(ece.decrypt(body, { version: "aes128gcm", privateKey: ecdh, authSecret: auth.toString("base64url") }).toString("utf8"));
    },
  };
}

/**
 * Checks `Authorization: vapid t=<JWT>, k=<public key>` (RFC 8292): `k` is the server's key,
 * the JWT is ES256 and verifies against it, `aud` is the endpoint's origin, `exp` within 24 h.
 * Resolves with the JWT's claims.
 */
export async function verifyVapid(authorization: string | null, publicKey: string, audience: string): Promise<Record<string, unknown>> {
  const match = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+), k=([A-Za-z0-9_-]+)$/.exec(authorization ?? "");
  if (!match) throw new Error(`not a VAPID Authorization header: ${authorization}`);
  const [, jwt, k] = match;
  if (k !== publicKey) throw new Error("the VAPID k= is not the server's public key");
  const [header, claims, signature] = jwt.split(".");
  const json = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  if (json(header).alg !== "ES256") throw new Error(`VAPID JWT alg ${json(header).alg}`);
  const key = await crypto.subtle.importKey("raw", Buffer.from(publicKey, "base64url"), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const signed = new TextEncoder().encode(`${header}.${claims}`);
  const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, Buffer.from(signature, "base64url"), signed);
  if (!ok) throw new Error("the VAPID JWT's signature does not verify");
  const body = json(claims);
  if (body.aud !== audience) throw new Error(`VAPID aud ${body.aud}, expected ${audience}`);
  const now = Date.now() / 1000;
  if (!(body.exp > now && body.exp <= now + 86_400)) throw new Error(`VAPID exp ${body.exp} not within 24 h`);
  return body;
}
