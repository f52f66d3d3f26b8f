/**
 * Magic links: asking for one and using one. An allowed and an unknown address get the
 * same answer after the same work (a link is stored for both, the unknown one born
 * unusable), and the email goes out after the answer, so the allow-list can't be probed.
 */
import { createHash, randomBytes } from "node:crypto";
import type { AuthStore } from "../engine";
import type { AllowList } from "./allow-list";
import type { Config } from "./config";
import type { EmailSender } from "./email";
import { describeError, log } from "../log";
import type { Metrics } from "./metrics";
import { rateLimitKey } from "./request";
import { normaliseEmail } from "../protocol/email";

const HOUR_MS = 3_600_000;

export type LinkRequestResult =
  | { kind: "ok" }
  | { kind: "invalid"; detail: string }
  | { kind: "rate_limited"; retryAfterSeconds: number };

export type LinkUseResult = { ok: true; email: string } | { ok: false; code: "invalid_token" | "expired_token" | "not_allowed"; email?: string };

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export class MagicLinks {
  private outbox: Array<{ to: string; token: string; tokenHash: string; allowed: boolean }> = [];

  constructor(
    private config: Config,
    private auth: AuthStore,
    private allowList: AllowList,
    private sender: EmailSender,
    private metrics: Metrics,
  ) {}

  async request(body: unknown, clientAddress: string): Promise<LinkRequestResult> {
    const raw = (body as { email?: unknown } | null)?.email;
    if (typeof body !== "object" || body === null || Array.isArray(body) || typeof raw !== "string")
      return { kind: "invalid", detail: 'Send a JSON object like {"email": "you@example.com"}.' };
    const email = normaliseEmail(raw);
    if (!email) return { kind: "invalid", detail: "That does not look like an email address; check it and try again." };

    const now = Date.now();
    const decision = await this.auth.hitRateLimits(
      [
        { key: `email:${email}`, limit: this.config.magicLinkRateLimit },
        { key: `ip:${rateLimitKey(clientAddress)}`, limit: this.config.magicLinkIpRateLimit },
      ],
      HOUR_MS,
      now,
    );
    if (!decision.allowed) {
      this.metrics.rateLimited("magic_link");
      return { kind: "rate_limited", retryAfterSeconds: decision.retryAfterSeconds };
    }

    this.metrics.magicLinks.requested++;
    const allowed = this.allowList.has(email);
    const token = randomBytes(32).toString("base64url");
    const tokenHash = hashToken(token);
    await this.auth.saveMagicLink(tokenHash, email, now + this.config.magicLinkExpiryMinutes * 60_000, allowed);
    if (!allowed) this.metrics.magicLinks.refused++;
    // Allowed and unknown addresses take the same path until the answer has gone; only
    // the outbox, a moment later, tells them apart, so the allow-list can't be timed
    // (bench/probe/allow-list-timing.ts measured 18 µs when the mail started at once).
    this.outbox.push({ to: email, token, tokenHash, allowed });
    if (this.outbox.length === 1) setTimeout(() => this.drainOutbox(), 1);
    return { kind: "ok" };
  }

  private drainOutbox() {
    for (const { to, token, tokenHash, allowed } of this.outbox.splice(0)) if (allowed) void this.deliver(to, token, tokenHash);
  }

  private async deliver(to: string, token: string, tokenHash: string) {
    const url = `${this.config.linkOrigin}/auth/verify?token=${token}`;
    try {
      await this.sender.sendMagicLink({ to, url, token, expiresInMinutes: this.config.magicLinkExpiryMinutes });
      this.metrics.magicLinks.sent++;
    } catch (error) {
      this.metrics.magicLinks.failed++;
      log.error(`magic link email to ${to} failed, link disabled: ${describeError(error)}`);
      await this.auth.disableMagicLink(tokenHash).catch(() => {});
    }
  }

  /** Who a link would sign in, without using it; null when it can't be used. */
  async peek(token: string): Promise<{ email: string } | { code: "invalid_token" | "expired_token" }> {
    if (!isTokenShaped(token)) return { code: "invalid_token" };
    const link = await this.auth.peekMagicLink(hashToken(token));
    if (!link || !link.usable) return { code: "invalid_token" };
    if (link.expiresAt <= Date.now()) return { code: "expired_token" };
    return { email: link.email };
  }

  /** Uses a link once; the token is consumed even when the address is no longer allowed. */
  async use(token: unknown): Promise<LinkUseResult> {
    if (typeof token !== "string" || !isTokenShaped(token)) return this.failed("invalid_token");
    const result = await this.auth.consumeMagicLink(hashToken(token), Date.now());
    if (result.status === "invalid") return this.failed("invalid_token");
    if (result.status === "expired") return this.failed("expired_token");
    if (!this.allowList.has(result.email)) return this.failed("not_allowed");
    return { ok: true, email: result.email };
  }

  private failed(code: "invalid_token" | "expired_token" | "not_allowed"): LinkUseResult {
    this.metrics.authFailure(code);
    return { ok: false, code };
  }
}

function isTokenShaped(token: string): boolean {
  return /^[A-Za-z0-9_-]{16,128}$/.test(token);
}
