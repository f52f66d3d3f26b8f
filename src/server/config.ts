/**
 * Configuration from the environment (PROTOCOL.md section 3). Every value is checked
 * once, here, before anything listens; a bad one is a ConfigError naming the variable
 * and the fix, which main turns into one line on stderr and exit status 2.
 */
import { readFileSync } from "node:fs";
import { isIPv4, isIPv6 } from "node:net";
import { resolve } from "node:path";
import { fail } from "./config-error";
import { ensureDataDir, jwtSecret } from "./data-dir";
import { parseListenAddress, type ListenAddress } from "./listen-address";
import { normaliseEmail } from "../protocol/email";
import { redactUrl } from "../log";
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_USER_QUOTA_BYTES } from "../protocol/files";
import { parseS3Url } from "../files/s3-url";
import { parseEndpointAllow } from "./push/endpoint-policy";
import { loadVapid, type Vapid } from "./push/vapid";


export interface Config {
  port: number;
  host: string;
  publicUrl: string | null;
  /** The origin links are built from: PUBLIC_URL's, or http://localhost:<PORT>. */
  linkOrigin: string;
  secureCookies: boolean;
  jwtSecret: string;
  allowedEmails: string[];
  allowedEmailsFile: string | null;
  emailSender: "console" | "resend";
  resendApiKey: string | null;
  emailFrom: string;
  jwtExpiryDays: number;
  magicLinkExpiryMinutes: number;
  magicLinkRateLimit: number;
  magicLinkIpRateLimit: number;
  trustProxy: boolean;
  maxConnectionsPerUser: number;
  maxMessageLength: number;
  messageRateLimit: number;
  maxFrameBytes: number;
  sendBufferBytes: number;
  dataDir: string;
  redisUrl: string | null;
  /** METRICS_LISTEN: where the metrics listener listens; null: no metrics are served. */
  metricsListen: ListenAddress | null;
  /** S3_URL: files in this bucket; null: under ROOMZ_DATA_DIR/files. */
  s3Url: string | null;
  maxFileBytes: number;
  userQuotaBytes: number;
  /** Uploads no message refers to are deleted after this long (24 h; tests shorten it). */
  orphanFileAgeMs: number;
  /** How often the cleanup looks for them. */
  orphanSweepEveryMs: number;
  /** Web Push (PROTOCOL.md section 8): the VAPID keys and subject. */
  vapid: Vapid;
  /** PUSH_ENDPOINT_ALLOW: origins of push endpoints allowed though not https on a public address. */
  pushEndpointAllow: string[];
  /**
   * How often an event stream gets its keepalive comment: 25 s (PROTOCOL.md section 6).
   * ROOMZ_STREAM_HEARTBEAT_MS (internal, undocumented) shortens it for tests.
   */
  streamHeartbeatMs: number;
  /** How often each WebSocket is pinged: 25 s. ROOMZ_PING_EVERY_MS (internal, undocumented) shortens it for tests. */
  pingEveryMs: number;
}

type Env = Record<string, string | undefined>;


function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) fail(name, `"${raw}" is not a whole number; set it to an integer from ${min} to ${max}.`);
  const value = Number(raw);
  if (value < min || value > max) fail(name, `${value} is out of range; set it to an integer from ${min} to ${max}.`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  fail(name, `"${env[name]}" is not a boolean; set it to true, 1, false or 0.`);
}

function stripQuotes(value: string): string {
  const trimmed = value.trim();
  const quoted = /^(["'])(.*)\1$/s.exec(trimmed);
  return quoted ? quoted[2].trim() : trimmed;
}

/**
 * HOST: an IPv4 literal (octets 0-255), an IPv6 literal (brackets optional, dropped) or a
 * host name of letters, digits and hyphens between dots. A name ending in a numeric label
 * is taken for a mistyped IPv4 address (no top-level domain is numeric).
 */
function parseHost(raw: string | undefined): string {
  const given = raw?.trim() ?? "";
  if (given === "") return "0.0.0.0";
  const unbracketed = /^\[(.*)\]$/.exec(given)?.[1] ?? given;
  if (isIPv6(unbracketed)) return unbracketed;
  if (isIPv4(given)) return given;
  const labels = given.split(".");
  const hostName =
    given.length <= 253 &&
    labels.every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)) &&
    !/^\d+$/.test(labels[labels.length - 1]);
  if (!hostName)
    fail("HOST", `"${given}" is not an IP address or host name; set it to an address of this machine (127.0.0.1, ::1), 0.0.0.0 or :: for all, or a host name like localhost.`);
  return given;
}

/** PUBLIC_URL: an http(s) origin only; Roomz is served at the root of its origin. */
function parsePublicUrl(raw: string | undefined): URL | null {
  if (raw === undefined || raw.trim() === "") return null;
  const given = raw.trim();
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    fail("PUBLIC_URL", `"${given}" is not a URL; set it to the origin people use, like https://chat.example.com.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    fail("PUBLIC_URL", `"${given}" must start with http:// or https://; set it to the origin people use, like https://chat.example.com.`);
  // Credentials first, and never echoed: the value may hold a password.
  if (url.username !== "" || url.password !== "")
    fail("PUBLIC_URL", `contains a user name or password; set it to the origin alone, ${url.origin}.`);
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "" || /[?#]/.test(given))
    fail("PUBLIC_URL", `"${given}" has a path, query or fragment; Roomz is served at the root of its origin, so set it to ${url.origin}.`);
  return url;
}

/**
 * Parses a list of addresses, comma-separated or one a line (`#` starts a comment), each
 * trimmed and lower-cased; an entry that is not a plausible address (PROTOCOL.md section
 * 1) is a ConfigError naming `variable` and the entry.
 */
export function parseEmailList(text: string, variable = "ALLOWED_EMAILS"): string[] {
  const emails: string[] = [];
  text.split("\n").forEach((line, index) => {
    for (const entry of line.replace(/#.*/, "").split(",")) {
      if (entry.trim() === "") continue;
      const email = normaliseEmail(entry);
      if (email) emails.push(email);
      else {
        const where = variable === "ALLOWED_EMAILS" ? "" : `line ${index + 1}: `;
        fail(variable, `${where}"${entry.trim()}" is not an email address; fix or remove it (addresses look like alice@example.com).`);
      }
    }
  });
  return emails;
}

export function readAllowedEmailsFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    fail("ALLOWED_EMAILS_FILE", `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"}); point it at a readable file of addresses, one a line.`);
  }
  return parseEmailList(text, `ALLOWED_EMAILS_FILE (${path})`);
}

/** A `host:port` to listen on, or null when the variable is unset or empty. */
function listenAddress(env: Env, name: string): ListenAddress | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  const address = parseListenAddress(raw);
  if (typeof address === "string") fail(name, address);
  return address;
}

/** S3_URL, checked here so a typo stops the server at start; the secret is never echoed. */
function s3Url(env: Env): string | null {
  const raw = env.S3_URL?.trim();
  if (!raw) return null;
  const parsed = parseS3Url(raw);
  if (typeof parsed === "string") fail("S3_URL", parsed);
  return raw;
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, "PORT", 8000, 0, 65535);
  const host = parseHost(env.HOST);
  const publicUrl = parsePublicUrl(env.PUBLIC_URL);
  const emailSender = (env.EMAIL_SENDER?.trim().toLowerCase() || "console") as Config["emailSender"];
  if (emailSender !== "console" && emailSender !== "resend")
    fail("EMAIL_SENDER", `"${env.EMAIL_SENDER}" is not a sender; set it to console or resend.`);
  const resendApiKey = env.RESEND_API_KEY ? stripQuotes(env.RESEND_API_KEY) : null;
  if (emailSender === "resend" && !resendApiKey)
    fail("RESEND_API_KEY", "is required with EMAIL_SENDER=resend; set it to your Resend API key.");
  const maxMessageLength = integer(env, "MAX_MESSAGE_LENGTH", 4000, 1, 100_000);
  const minFrame = 12 * maxMessageLength + 1024;
  const maxFrameBytes = integer(env, "MAX_FRAME_BYTES", Math.max(65536, minFrame), minFrame, 16 * 1024 * 1024);
  const dataDir = resolve(env.ROOMZ_DATA_DIR?.trim() || "./roomz-data");
  const allowedEmailsFile = env.ALLOWED_EMAILS_FILE?.trim() || null;
  const redisUrl = env.REDIS_URL?.trim() || null;
  if (redisUrl && !/^(redis|rediss|valkey)(\+cluster)?:\/\//.test(redisUrl))
    fail("REDIS_URL", `"${redactUrl(redisUrl)}" is not a Redis URL; use redis://host:6379 (or rediss://).`);

  const config: Config = {
    port,
    host,
    publicUrl: publicUrl ? publicUrl.origin : null,
    linkOrigin: publicUrl ? publicUrl.origin : `http://localhost:${port}`,
    secureCookies: publicUrl?.protocol === "https:",
    jwtSecret: "",
    allowedEmails: parseEmailList(env.ALLOWED_EMAILS ?? "", "ALLOWED_EMAILS"),
    allowedEmailsFile,
    emailSender,
    resendApiKey,
    emailFrom: env.EMAIL_FROM ? stripQuotes(env.EMAIL_FROM) : "Roomz <onboarding@resend.dev>",
    jwtExpiryDays: integer(env, "JWT_EXPIRY_DAYS", 30, 1, 3650),
    magicLinkExpiryMinutes: integer(env, "MAGIC_LINK_EXPIRY_MINUTES", 15, 1, 1440),
    magicLinkRateLimit: integer(env, "MAGIC_LINK_RATE_LIMIT", 5, 1, 1_000_000),
    magicLinkIpRateLimit: integer(env, "MAGIC_LINK_IP_RATE_LIMIT", 30, 1, 1_000_000),
    trustProxy: boolean(env, "TRUST_PROXY", false),
    maxConnectionsPerUser: integer(env, "MAX_CONNECTIONS_PER_USER", 32, 1, 100_000),
    maxMessageLength,
    messageRateLimit: integer(env, "MESSAGE_RATE_LIMIT", 50, 1, 1_000_000),
    maxFrameBytes,
    sendBufferBytes: integer(env, "SEND_BUFFER_BYTES", 1048576, 65536, 1024 * 1024 * 1024),
    dataDir,
    redisUrl,
    metricsListen: listenAddress(env, "METRICS_LISTEN"),
    s3Url: s3Url(env),
    maxFileBytes: integer(env, "MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES, 1, 2 ** 50),
    userQuotaBytes: integer(env, "USER_QUOTA_BYTES", DEFAULT_USER_QUOTA_BYTES, 0, 2 ** 53 - 1),
    // Internal (tests): not in the contract's table, so not in --help either.
    orphanFileAgeMs: integer(env, "ROOMZ_ORPHAN_FILE_AGE_MS", 24 * 3_600_000, 0, 365 * 24 * 3_600_000),
    orphanSweepEveryMs: integer(env, "ROOMZ_ORPHAN_SWEEP_MS", 10 * 60_000, 100, 24 * 3_600_000),
    vapid: { publicKey: "", privateKey: "", subject: "" },
    pushEndpointAllow: parseEndpointAllow(env.PUSH_ENDPOINT_ALLOW),
    streamHeartbeatMs: integer(env, "ROOMZ_STREAM_HEARTBEAT_MS", 25_000, 50, 25_000),
    pingEveryMs: integer(env, "ROOMZ_PING_EVERY_MS", 25_000, 1_000, 25_000),
  };
  if (allowedEmailsFile) readAllowedEmailsFile(allowedEmailsFile);
  ensureDataDir(dataDir);
  config.jwtSecret = jwtSecret(env.JWT_SECRET_KEY, dataDir);
  config.vapid = loadVapid(env, dataDir, config.linkOrigin);
  return config;
}
