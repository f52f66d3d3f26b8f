/**
 * The data directory at start (PROTOCOL.md section 3): private modes on everything in it,
 * writable, and the session key generated into it once when JWT_SECRET_KEY is unset.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ConfigError, fail } from "./config-error";

/**
 * Makes the data directory private (PROTOCOL.md section 3, v2): created 0700; when it
 * already existed, group and others lose every permission on it and on everything in it
 * (an earlier run's 0755 and 0644 become 0700 and 0600). Files made later are 0600
 * through the umask that `roomz serve` sets before anything is created (src/main.ts).
 */
export function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The directory itself even when ROOMZ_DATA_DIR is a symbolic link to it (links inside it are left alone).
    makePrivate(realpathSync(dir));
    const probe = join(dir, ".write-check");
    writeFileSync(probe, "");
    unlinkSync(probe);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    fail("ROOMZ_DATA_DIR", `cannot write to ${dir} (${(error as NodeJS.ErrnoException).code ?? "error"}); point it at a writable directory.`);
  }
}

/**
 * Directories at most 0700 and files at most 0600, from `path` down: group and others
 * lose every permission, files their execute bit; the owner keeps what it had (a
 * directory made read-only on purpose stays so). Symbolic links are left alone.
 */
function makePrivate(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  const allowed = stat.isDirectory() ? 0o700 : 0o600;
  if ((stat.mode & 0o777 & ~allowed) !== 0) {
    try {
      chmodSync(path, stat.mode & allowed);
    } catch (error) {
      fail("ROOMZ_DATA_DIR", `cannot make ${path} private (${(error as NodeJS.ErrnoException).code ?? "error"}); run roomz as the owner of the data directory, or chown it to that user.`);
    }
  }
  if (stat.isDirectory()) for (const name of readdirSync(path)) makePrivate(join(path, name));
}

/** The key from JWT_SECRET_KEY, or the one generated once into the data directory. */
export function jwtSecret(given: string | undefined, dataDir: string): string {
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

