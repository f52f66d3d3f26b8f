/**
 * The one rule for what counts as an email address (PROTOCOL.md section 1), shared by
 * request-magic-link and the allow-list's configuration checks.
 */

/** Trims and lower-cases an address and checks it is plausible; null when it is not. */
export function normaliseEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  if (email.length > 254) return null;
  const parts = email.split("@");
  if (parts.length !== 2) return null;
  const [local, domain] = parts;
  if (!/^[\x21-\x7e]{1,64}$/.test(local)) return null;
  const labels = domain.split(".");
  if (labels.length < 2 || !labels.every((label) => /^[a-z0-9-]+$/.test(label))) return null;
  return email;
}
