/**
 * The small server-rendered page of GET /auth/verify: no JavaScript, one button that
 * POSTs the token. Looking at it never uses the token (mail scanners fetch links).
 */
import { createHash } from "node:crypto";

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:15vh auto;padding:0 1rem;color:#1d2430;background:#f6f7f9}
main{background:#fff;border-radius:12px;padding:1.5rem 1.75rem;box-shadow:0 1px 3px #0002}
h1{font-size:1.35rem;margin:0 0 .75rem}button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:8px;background:#3056d3;color:#fff;cursor:pointer}
button:focus-visible,a:focus-visible{outline:3px solid #f3b53f;outline-offset:2px}a{color:#3056d3}
@media (prefers-color-scheme:dark){body{background:#11151c;color:#e6e9ef}main{background:#1b212b}a{color:#8fa8ff}}`;

const STYLE_HASH = createHash("sha256").update(STYLE).digest("base64");

export const VERIFY_PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "content-security-policy": `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title} · Roomz</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

export function confirmPage(email: string, token: string): string {
  return page(
    "Sign in",
    `<h1>Sign in to Roomz</h1><p>You are signing in as <strong>${escapeHtml(email)}</strong>.</p>
<form method="post" action="/auth/verify"><input type="hidden" name="token" value="${escapeHtml(token)}"><button type="submit">Sign in</button></form>`,
  );
}

export function unusableLinkPage(expired: boolean): string {
  const why = expired
    ? "This sign-in link has expired. Links work for a limited time."
    : "This sign-in link is not valid: it was already used, or it was mistyped.";
  return page("Link not usable", `<h1>This link can't be used</h1><p>${why}</p><p><a href="/">Ask for a new link</a></p>`);
}
