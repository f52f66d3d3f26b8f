/**
 * Configuration from the environment (PROTOCOL.md section 3). Every value is checked
 * once, here, before anything listens; a bad one is a ConfigError naming the variable
 * and the fix, which main turns into one line on stderr and exit status 2.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";

export class ConfigError extends Error {}

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
}

type Env = Record<string, string | undefined>;

function fail(name: string, fix: string): never {
  throw new ConfigError(`${name}: ${fix}`);
}

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

function parsePublicUrl(raw: string | undefined): URL | null {
  if (raw === undefined || raw.trim() === "") return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    fail("PUBLIC_URL", `"${raw}" is not a URL; set it to the origin people use, like https://chat.example.com.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    fail("PUBLIC_URL", `"${raw}" must start with http:// or https://.`);
  return url;
}

/** Parses a comma-separated or one-per-line list of addresses; `#` starts a comment. */
export function parseEmailList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((line) => line.replace(/#.*/, "").trim().toLowerCase())
    .filter((email) => email.length > 0);
}

export function readAllowedEmailsFile(path: string): string[] {
  try {
    return parseEmailList(readFileSync(path, "utf8"));
  } catch (error) {
    fail("ALLOWED_EMAILS_FILE", `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"}); point it at a readable file of addresses, one a line.`);
  }
}

function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const probe = join(dir, ".write-check");
    writeFileSync(probe, "");
    unlinkSync(probe);
  } catch (error) {
    fail("ROOMZ_DATA_DIR", `cannot write to ${dir} (${(error as NodeJS.ErrnoException).code ?? "error"}); point it at a writable directory.`);
  }
}

/** The key from JWT_SECRET_KEY, or the one generated once into the data directory. */
function jwtSecret(env: Env, dataDir: string): string {
  const given = env.JWT_SECRET_KEY;
  if (given !== undefined && given !== "") {
    if (given.length < 32) fail("JWT_SECRET_KEY", "is shorter than 32 characters; use a longer random key, or unset it to have one generated.");
    return given;
  }
  const keyFile = join(dataDir, "jwt-secret.key");
  if (existsSync(keyFile)) {
    const stored = readFileSync(keyFile, "utf8").trim();
    if (stored.length >= 32) return stored;
    fail("JWT_SECRET_KEY", `the generated key in ${keyFile} is damaged; delete the file (all sessions end) or set JWT_SECRET_KEY.`);
  }
  const key = randomBytes(48).toString("base64url");
  writeFileSync(keyFile, key + "\n", { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  return key;
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, "PORT", 8000, 0, 65535);
  const host = env.HOST?.trim() || "0.0.0.0";
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
  if (redisUrl && !/^(redis|rediss|valkey):\/\//.test(redisUrl))
    fail("REDIS_URL", `"${redisUrl}" is not a Redis URL; use redis://host:6379 (or rediss://).`);

  const config: Config = {
    port,
    host,
    publicUrl: publicUrl ? publicUrl.origin : null,
    linkOrigin: publicUrl ? publicUrl.origin : `http://localhost:${port}`,
    secureCookies: publicUrl?.protocol === "https:",
    jwtSecret: "",
    allowedEmails: parseEmailList(env.ALLOWED_EMAILS ?? ""),
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
  };
  if (allowedEmailsFile) readAllowedEmailsFile(allowedEmailsFile);
  ensureDataDir(dataDir);
  config.jwtSecret = jwtSecret(env, dataDir);
  return config;
}
