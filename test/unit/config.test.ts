/**
 * loadConfig in-process (PROTOCOL.md section 3): the defaults, values that are fine, and
 * every bad value of test/helpers/bad-config.ts as a ConfigError that names the variable
 * and the fix. test/http/config.test.ts proves `roomz serve` turns that error into exit
 * status 2 and one line on stderr.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/server/config";
import { ConfigError } from "../../src/server/config-error";
import { badValues, VAPID_PAIR } from "../helpers/bad-config";
import { tempDir } from "../helpers/server";

const scratch = tempDir("roomz-config-unit-");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let dirs = 0;
/** `env` over a fresh data directory (loadConfig creates it and may write a key into it). */
const load = (env: Record<string, string> = {}) => loadConfig({ ROOMZ_DATA_DIR: join(scratch, `data-${++dirs}`), ...env });

function configError(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
}

describe("defaults", () => {
  test("every value of the table, with nothing set but the data directory", () => {
    const config = load();
    expect({ ...config, jwtSecret: "(generated)", dataDir: "(given)", vapid: { ...config.vapid, publicKey: "(generated)", privateKey: "(generated)" } }).toEqual({
      port: 8000,
      host: "0.0.0.0",
      publicUrl: null,
      linkOrigin: "http://localhost:8000",
      secureCookies: false,
      jwtSecret: "(generated)",
      allowedEmails: [],
      allowedEmailsFile: null,
      emailSender: "console",
      resendApiKey: null,
      emailFrom: "Roomz <onboarding@resend.dev>",
      jwtExpiryDays: 30,
      magicLinkExpiryMinutes: 15,
      magicLinkRateLimit: 5,
      magicLinkIpRateLimit: 30,
      trustProxy: false,
      maxConnectionsPerUser: 32,
      maxMessageLength: 4000,
      messageRateLimit: 50,
      maxFrameBytes: 65536,
      sendBufferBytes: 1048576,
      dataDir: "(given)",
      redisUrl: null,
      metricsListen: null,
      s3Url: null,
      maxFileBytes: 104857600,
      userQuotaBytes: 10737418240,
      orphanFileAgeMs: 86400000,
      orphanSweepEveryMs: 600000,
      vapid: { publicKey: "(generated)", privateKey: "(generated)", subject: "mailto:roomz@localhost" },
      pushEndpointAllow: [],
      streamHeartbeatMs: 25_000,
      pingEveryMs: 25_000,
    });
  });

  test("the data directory is made 0700, and an unset JWT_SECRET_KEY is generated once into it (0600) and reused", () => {
    const dataDir = join(scratch, "keeps-its-key");
    const first = loadConfig({ ROOMZ_DATA_DIR: dataDir });
    expect(first.dataDir).toBe(dataDir);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const keyFile = join(dataDir, "jwt-secret.key");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(keyFile, "utf8").trim()).toBe(first.jwtSecret);
    expect(loadConfig({ ROOMZ_DATA_DIR: dataDir }).jwtSecret).toBe(first.jwtSecret);
    // A given key wins and is not written anywhere.
    const given = "g".repeat(32);
    const other = join(scratch, "given-key");
    expect(loadConfig({ ROOMZ_DATA_DIR: other, JWT_SECRET_KEY: given }).jwtSecret).toBe(given);
    expect(existsSync(join(other, "jwt-secret.key"))).toBe(false);
  });

  test("[v2] an unset VAPID pair is generated once into the data directory (0600) and reused; a given pair is used as it is", () => {
    const dataDir = join(scratch, "keeps-its-vapid-pair");
    const first = loadConfig({ ROOMZ_DATA_DIR: dataDir }).vapid;
    expect(Buffer.from(first.publicKey, "base64url").length).toBe(65);
    expect(Buffer.from(first.privateKey, "base64url").length).toBe(32);
    const keyFile = join(dataDir, "vapid.key");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(loadConfig({ ROOMZ_DATA_DIR: dataDir }).vapid).toEqual(first);
    const other = join(scratch, "given-vapid-pair");
    const given = loadConfig({ ROOMZ_DATA_DIR: other, VAPID_PUBLIC_KEY: VAPID_PAIR.publicKey, VAPID_PRIVATE_KEY: ` ${VAPID_PAIR.privateKey} ` }).vapid;
    expect(given).toMatchObject(VAPID_PAIR);
    expect(existsSync(join(other, "vapid.key"))).toBe(false);
  });

  test("MAX_FRAME_BYTES defaults to at least 12 × MAX_MESSAGE_LENGTH + 1024", () => {
    expect(load({ MAX_MESSAGE_LENGTH: "5000" }).maxFrameBytes).toBe(65536);
    expect(load({ MAX_MESSAGE_LENGTH: "6000" }).maxFrameBytes).toBe(12 * 6000 + 1024);
  });
});

describe("values that are fine", () => {
  test("PUBLIC_URL sets the link origin and, for https, secure cookies", () => {
    expect(load({ PUBLIC_URL: "https://chat.example.com:8443/" })).toMatchObject({ publicUrl: "https://chat.example.com:8443", linkOrigin: "https://chat.example.com:8443", secureCookies: true });
    expect(load({ PUBLIC_URL: "https://chat.example.com:443" })).toMatchObject({ publicUrl: "https://chat.example.com", secureCookies: true });
    expect(load({ PUBLIC_URL: "http://chat.example.com" })).toMatchObject({ linkOrigin: "http://chat.example.com", secureCookies: false });
    expect(load({ PORT: "9000" }).linkOrigin).toBe("http://localhost:9000");
  });

  test("ALLOWED_EMAILS: comma-separated, trimmed, lower-cased; empty entries skipped", () => {
    expect(load({ ALLOWED_EMAILS: " A@Example.com ,b@example.com,, " }).allowedEmails).toEqual(["a@example.com", "b@example.com"]);
    expect(load({ ALLOWED_EMAILS: " , ,, " }).allowedEmails).toEqual([]);
  });

  test("HOST: IPv4, IPv6 with or without brackets, host names", () => {
    for (const [given, host] of [["127.0.0.1", "127.0.0.1"], ["::1", "::1"], ["[::1]", "::1"], ["::", "::"], ["localhost", "localhost"], ["chat-1.example.com", "chat-1.example.com"], [" 0.0.0.0 ", "0.0.0.0"]])
      expect(load({ HOST: given }).host).toBe(host);
  });

  test("booleans, quoted Resend values, edges of the ranges, a Redis URL, METRICS_LISTEN", () => {
    for (const [raw, value] of [["true", true], ["1", true], ["TRUE", true], ["false", false], ["0", false], ["", false]] as const) expect(load({ TRUST_PROXY: raw }).trustProxy).toBe(value);
    expect(load({ EMAIL_SENDER: "Resend", RESEND_API_KEY: '"re_x"', EMAIL_FROM: "'Chat <chat@example.com>'" })).toMatchObject({ emailSender: "resend", resendApiKey: "re_x", emailFrom: "Chat <chat@example.com>" });
    expect(load({ PORT: "0" }).port).toBe(0);
    expect(load({ PORT: "65535" }).port).toBe(65535);
    expect(load({ MAX_MESSAGE_LENGTH: "100", MAX_FRAME_BYTES: "2224" }).maxFrameBytes).toBe(2224);
    expect(load({ MESSAGE_RATE_LIMIT: " 7 " }).messageRateLimit).toBe(7);
    expect(load({ REDIS_URL: "rediss://cache:6380" }).redisUrl).toBe("rediss://cache:6380");
    expect(load({ REDIS_URL: "redis+cluster://h1:7000,h2:7001" }).redisUrl).toBe("redis+cluster://h1:7000,h2:7001");
    expect(load({ METRICS_LISTEN: "[::1]:9100" }).metricsListen).toEqual({ host: "::1", port: 9100 });
  });

  test("[v2] VAPID_SUBJECT defaults to an https PUBLIC_URL, else a mailto: at the server's host; PUSH_ENDPOINT_ALLOW holds origins", () => {
    expect(load({ PUBLIC_URL: "https://chat.example.com" }).vapid.subject).toBe("https://chat.example.com");
    expect(load({ PUBLIC_URL: "http://chat.example.com:8080" }).vapid.subject).toBe("mailto:roomz@chat.example.com");
    expect(load({ VAPID_SUBJECT: "mailto:admin@example.com" }).vapid.subject).toBe("mailto:admin@example.com");
    expect(load({ PUSH_ENDPOINT_ALLOW: " http://127.0.0.1:9999/ , https://Push.Internal:443" }).pushEndpointAllow).toEqual(["http://127.0.0.1:9999", "https://push.internal"]);
  });
});

describe("a bad value is a ConfigError naming the variable and the fix", () => {
  const cases = badValues(scratch).filter((c) => c.stage !== "listen");
  for (const { name, env, variable } of cases) {
    test(name, () => {
      const { message } = configError(env);
      expect(message).toStartWith(variable);
      expect(message.length).toBeGreaterThan(variable.length + 20);
    });
  }

  test("each names what is wrong with the value, and never echoes a password", () => {
    expect(configError({ HOST: "999.1.1.1" }).message).toContain('HOST: "999.1.1.1" is not an IP address or host name');
    expect(configError({ PUBLIC_URL: "https://chat.example.com/roomz" }).message).toContain("set it to https://chat.example.com");
    expect(configError({ PUBLIC_URL: "https://admin:hunter2@chat.example.com" }).message).not.toContain("hunter2");
    expect(configError({ ALLOWED_EMAILS: "a@example.com, b@example" }).message).toContain('"b@example"');
    expect(configError({ PORT: "70000" }).message).toContain("0 to 65535");
    expect(configError({ S3_URL: "http://AKIA:topsecret@localhost:9000/b" }).message).not.toContain("topsecret");
    expect(load({ S3_URL: "s3s://AKIA:top%2Fsecret@s3.example.com/my-bucket" }).s3Url).toBe("s3s://AKIA:top%2Fsecret@s3.example.com/my-bucket");
  });

  test("more bad values: signs, spaces and fractions in numbers, other schemes, a bad METRICS_LISTEN", () => {
    for (const [env, variable] of [
      [{ PORT: "-1" }, "PORT"],
      [{ PORT: "+80" }, "PORT"],
      [{ PORT: "80.5" }, "PORT"],
      [{ MESSAGE_RATE_LIMIT: "1 000" }, "MESSAGE_RATE_LIMIT"],
      [{ SEND_BUFFER_BYTES: "65535" }, "SEND_BUFFER_BYTES"],
      [{ MAX_MESSAGE_LENGTH: "100001" }, "MAX_MESSAGE_LENGTH"],
      [{ JWT_EXPIRY_DAYS: "3651" }, "JWT_EXPIRY_DAYS"],
      [{ PUBLIC_URL: "chat.example.com" }, "PUBLIC_URL"],
      [{ PUBLIC_URL: "https://chat.example.com?" }, "PUBLIC_URL"],
      [{ EMAIL_SENDER: "resend", RESEND_API_KEY: '""' }, "RESEND_API_KEY"],
      [{ REDIS_URL: "localhost:6379" }, "REDIS_URL"],
      [{ METRICS_LISTEN: "9100" }, "METRICS_LISTEN"],
      [{ METRICS_LISTEN: "127.0.0.1:70000" }, "METRICS_LISTEN"],
    ] as Array<[Record<string, string>, string]>)
      expect({ env, message: configError(env).message.slice(0, variable.length) }).toEqual({ env, message: variable });
  });

  test("a mistyped REDIS_URL is named without its password", () => {
    const message = configError({ REDIS_URL: "redsi://roomz:s3cret-pass@cache:6379" }).message;
    expect(message).toContain('"redsi://***@cache:6379" is not a Redis URL');
    expect(message).not.toContain("s3cret-pass");
  });
});
