/**
 * The VAPID key pair and subject (RFC 8292) that sign every Web Push (PROTOCOL.md
 * section 8): VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY when set (shared by every instance),
 * else a pair generated once into the data directory (`vapid.key`, mode 0600), like the
 * session key. Checked at start; a bad value stops the server (exit 2).
 */
import { createECDH } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import webPush from "web-push";
import { fail } from "../config-error";

export interface Vapid {
  /** Uncompressed P-256 point, base64url (65 bytes). */
  publicKey: string;
  /** The private scalar, base64url (32 bytes). */
  privateKey: string;
  /** `mailto:` or `https:`, as push services require. */
  subject: string;
}

export const VAPID_KEY_FILE = "vapid.key";

/** The public key of a private key, or null when it is not a P-256 private key. */
function publicKeyOf(privateKey: string): string | null {
  const bytes = Buffer.from(privateKey, "base64url");
  if (bytes.length !== 32 || bytes.toString("base64url") !== privateKey) return null;
  try {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(bytes);
    return ecdh.getPublicKey().toString("base64url");
  } catch {
    return null;
  }
}

function givenKeys(publicKey: string, privateKey: string): Pick<Vapid, "publicKey" | "privateKey"> {
  if (!publicKey) fail("VAPID_PUBLIC_KEY", "is required with VAPID_PRIVATE_KEY; set both (npx web-push generate-vapid-keys), or neither to have a pair generated.");
  if (!privateKey) fail("VAPID_PRIVATE_KEY", "is required with VAPID_PUBLIC_KEY; set both (npx web-push generate-vapid-keys), or neither to have a pair generated.");
  const derived = publicKeyOf(privateKey);
  if (derived === null) fail("VAPID_PRIVATE_KEY", "is not a P-256 private key in base64url (43 characters); set the private key of a VAPID pair.");
  if (derived !== publicKey) fail("VAPID_PUBLIC_KEY", "does not belong to VAPID_PRIVATE_KEY; set the public key of the same pair.");
  return { publicKey, privateKey };
}

function storedKeys(dataDir: string): Pick<Vapid, "publicKey" | "privateKey"> {
  const file = join(dataDir, VAPID_KEY_FILE);
  if (existsSync(file)) {
    try {
      const { public_key: publicKey, private_key: privateKey } = JSON.parse(readFileSync(file, "utf8"));
      if (typeof privateKey === "string" && publicKeyOf(privateKey) === publicKey) return { publicKey, privateKey };
    } catch {}
    fail("VAPID_PRIVATE_KEY", `the generated key pair in ${file} is damaged; delete the file (every device must turn notifications on again) or set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY.`);
  }
  const pair = webPush.generateVAPIDKeys();
  writeFileSync(file, JSON.stringify({ public_key: pair.publicKey, private_key: pair.privateKey }) + "\n", { mode: 0o600 });
  chmodSync(file, 0o600);
  return pair;
}

/**
 * VAPID_SUBJECT: a `mailto:` address or an `https:` URL. Unset: PUBLIC_URL when it is
 * https, else `mailto:roomz@<host of the server's origin>` (push services need one of the
 * two forms; the subject is only a contact for the push service's operator).
 */
function subjectOf(given: string | undefined, origin: string): string {
  const raw = given?.trim() ?? "";
  if (raw === "") {
    const url = new URL(origin);
    return url.protocol === "https:" ? url.origin : `mailto:roomz@${url.hostname}`;
  }
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {}
  if (!url || (url.protocol !== "mailto:" && url.protocol !== "https:"))
    fail("VAPID_SUBJECT", `"${raw}" is not a mailto: address or https: URL; set it to how a push service can reach you, like mailto:admin@example.com.`);
  return raw;
}

export function loadVapid(env: Record<string, string | undefined>, dataDir: string, origin: string): Vapid {
  const publicKey = env.VAPID_PUBLIC_KEY?.trim() ?? "";
  const privateKey = env.VAPID_PRIVATE_KEY?.trim() ?? "";
  const keys = publicKey || privateKey ? givenKeys(publicKey, privateKey) : storedKeys(dataDir);
  return { ...keys, subject: subjectOf(env.VAPID_SUBJECT, origin) };
}
