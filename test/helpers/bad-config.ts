/**
 * The bad configuration values (PROTOCOL.md section 3), written once: test/unit/config.test.ts
 * checks each with loadConfig in-process, test/http/config.test.ts checks that `roomz serve`
 * turns it into exit status 2 and one line on stderr.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** A valid VAPID key pair (web-push's generateVAPIDKeys), for the tests that set the keys. */
export const VAPID_PAIR = { publicKey: "BLZ1nIrhn4GdOwhw2AKWvW2afnFxzXMi6DMJ7KSuR8X5Ozv3RVAeo1PcKZbhRHaqPcs88GzGLk8L4AAWzBYwJV0", privateKey: "dJOckuHsbTC3E2Z5OrGqQ2INa00mH299-byhl2Qr-rU" };

export interface BadValue {
  name: string;
  env: Record<string, string>;
  /** The variable the error line names. */
  variable: string;
  /** "listen": loadConfig takes it; only listening on it fails. */
  stage?: "listen";
}

/** The cases; the files some of them point at are written into `scratch`. */
export function badValues(scratch: string): BadValue[] {
  const aFile = join(scratch, "plain-file");
  writeFileSync(aFile, "not a directory\n");
  const badListFile = join(scratch, "allowed-with-a-typo.txt");
  writeFileSync(badListFile, "# the team\nerin@example.com\nfrank at example.com\n");
  const cases: Array<[string, Record<string, string>, string, "listen"?]> = [
    ["PORT=abc", { PORT: "abc" }, "PORT"],
    ["PORT=70000", { PORT: "70000" }, "PORT"],
    ["PUBLIC_URL ftp://", { PUBLIC_URL: "ftp://chat.example.com" }, "PUBLIC_URL"],
    ["JWT_SECRET_KEY of 31 characters", { JWT_SECRET_KEY: "k".repeat(31) }, "JWT_SECRET_KEY"],
    ["EMAIL_SENDER=smtp", { EMAIL_SENDER: "smtp" }, "EMAIL_SENDER"],
    ["EMAIL_SENDER=resend without RESEND_API_KEY", { EMAIL_SENDER: "resend" }, "RESEND_API_KEY"],
    ["ALLOWED_EMAILS_FILE missing", { ALLOWED_EMAILS_FILE: join(scratch, "no-such-file.txt") }, "ALLOWED_EMAILS_FILE"],
    ["JWT_EXPIRY_DAYS=0", { JWT_EXPIRY_DAYS: "0" }, "JWT_EXPIRY_DAYS"],
    ["MAGIC_LINK_EXPIRY_MINUTES=0", { MAGIC_LINK_EXPIRY_MINUTES: "0" }, "MAGIC_LINK_EXPIRY_MINUTES"],
    ["MAGIC_LINK_RATE_LIMIT=0", { MAGIC_LINK_RATE_LIMIT: "0" }, "MAGIC_LINK_RATE_LIMIT"],
    ["MAGIC_LINK_IP_RATE_LIMIT=lots", { MAGIC_LINK_IP_RATE_LIMIT: "lots" }, "MAGIC_LINK_IP_RATE_LIMIT"],
    ["TRUST_PROXY=maybe", { TRUST_PROXY: "maybe" }, "TRUST_PROXY"],
    ["MAX_CONNECTIONS_PER_USER=0", { MAX_CONNECTIONS_PER_USER: "0" }, "MAX_CONNECTIONS_PER_USER"],
    ["MAX_MESSAGE_LENGTH=0", { MAX_MESSAGE_LENGTH: "0" }, "MAX_MESSAGE_LENGTH"],
    ["MESSAGE_RATE_LIMIT=0", { MESSAGE_RATE_LIMIT: "0" }, "MESSAGE_RATE_LIMIT"],
    ["MAX_FRAME_BYTES=1000 (below 12 × 4000 + 1024)", { MAX_FRAME_BYTES: "1000" }, "MAX_FRAME_BYTES"],
    ["MAX_FRAME_BYTES one below 12 × MAX_MESSAGE_LENGTH + 1024", { MAX_MESSAGE_LENGTH: "100", MAX_FRAME_BYTES: "2223" }, "MAX_FRAME_BYTES"],
    ["SEND_BUFFER_BYTES=abc", { SEND_BUFFER_BYTES: "abc" }, "SEND_BUFFER_BYTES"],
    ["ROOMZ_DATA_DIR unwritable (under a plain file)", { ROOMZ_DATA_DIR: join(aFile, "data") }, "ROOMZ_DATA_DIR"],
    ["REDIS_URL not a Redis URL", { REDIS_URL: "http://localhost:6379" }, "REDIS_URL"],
    // Issue 12, defect 7: values that used to pass without a word.
    ["HOST=999.1.1.1 (an octet over 255)", { HOST: "999.1.1.1" }, "HOST"],
    ["HOST=1.2.3 (neither an address nor a name)", { HOST: "1.2.3" }, "HOST"],
    ["HOST=chat_server! (not a host name)", { HOST: "chat_server!" }, "HOST"],
    ["HOST=[::1 (unclosed bracket)", { HOST: "[::1" }, "HOST"],
    ["HOST=192.0.2.1 (valid, but not an address of this machine)", { HOST: "192.0.2.1" }, "HOST", "listen"],
    ["PUBLIC_URL with a path", { PUBLIC_URL: "https://chat.example.com/roomz" }, "PUBLIC_URL"],
    ["PUBLIC_URL with a query", { PUBLIC_URL: "https://chat.example.com/?room=1" }, "PUBLIC_URL"],
    ["PUBLIC_URL with a fragment", { PUBLIC_URL: "https://chat.example.com#top" }, "PUBLIC_URL"],
    ["PUBLIC_URL with credentials", { PUBLIC_URL: "https://admin:hunter2@chat.example.com" }, "PUBLIC_URL"],
    ["ALLOWED_EMAILS=notanemail", { ALLOWED_EMAILS: "notanemail" }, "ALLOWED_EMAILS"],
    ["ALLOWED_EMAILS with one bad entry among good ones", { ALLOWED_EMAILS: "a@example.com, b@example" }, "ALLOWED_EMAILS"],
    ["ALLOWED_EMAILS_FILE with a line that is not an address", { ALLOWED_EMAILS_FILE: badListFile }, "ALLOWED_EMAILS_FILE"],
    // Issue 16: attachments.
    ["MAX_FILE_BYTES=0", { MAX_FILE_BYTES: "0" }, "MAX_FILE_BYTES"],
    ["MAX_FILE_BYTES=100MB", { MAX_FILE_BYTES: "100MB" }, "MAX_FILE_BYTES"],
    ["USER_QUOTA_BYTES=-1", { USER_QUOTA_BYTES: "-1" }, "USER_QUOTA_BYTES"],
    ["S3_URL http://", { S3_URL: "http://key:secret@localhost:9000/bucket" }, "S3_URL"],
    ["S3_URL without credentials", { S3_URL: "s3://localhost:9000/bucket" }, "S3_URL"],
    ["S3_URL without a bucket", { S3_URL: "s3://key:secret@localhost:9000" }, "S3_URL"],
    // Web Push (issue 17): a pair is both keys, of one pair; the subject a contact push services accept.
    ["VAPID_PUBLIC_KEY without VAPID_PRIVATE_KEY", { VAPID_PUBLIC_KEY: VAPID_PAIR.publicKey }, "VAPID_PRIVATE_KEY"],
    ["VAPID_PRIVATE_KEY without VAPID_PUBLIC_KEY", { VAPID_PRIVATE_KEY: VAPID_PAIR.privateKey }, "VAPID_PUBLIC_KEY"],
    ["VAPID_PRIVATE_KEY not a key", { VAPID_PUBLIC_KEY: VAPID_PAIR.publicKey, VAPID_PRIVATE_KEY: "not-a-key" }, "VAPID_PRIVATE_KEY"],
    ["VAPID keys of two different pairs", { VAPID_PUBLIC_KEY: "BPzucyuYFEeXLc9t7Esmwa83IcsI0lGuXxy-zUENgFHaxT_ROgJlz_mPQYouxe0FJ1rVZ9SrrObO3EiRFwShHM0", VAPID_PRIVATE_KEY: VAPID_PAIR.privateKey }, "VAPID_PUBLIC_KEY"],
    ["VAPID_SUBJECT not mailto: or https:", { VAPID_SUBJECT: "http://chat.example.com" }, "VAPID_SUBJECT"],
    ["PUSH_ENDPOINT_ALLOW with a path", { PUSH_ENDPOINT_ALLOW: "https://push.example.com/send" }, "PUSH_ENDPOINT_ALLOW"],
    ["PUSH_ENDPOINT_ALLOW not a URL", { PUSH_ENDPOINT_ALLOW: "https://push.example.com, push.internal:8443" }, "PUSH_ENDPOINT_ALLOW"],
  ];
  return cases.map(([name, env, variable, stage]) => ({ name, env, variable, ...(stage ? { stage } : {}) }));
}
