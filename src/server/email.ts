/**
 * Email senders. The console sender prints the one `magic-link <email> <url>` line, the
 * only place a token is ever printed; the Resend sender goes through the `resend` SDK
 * (which honours RESEND_BASE_URL, so tests point it at a fake API).
 */
import { Resend } from "resend";
import type { Config } from "./config";

export interface MagicLinkEmail {
  to: string;
  url: string;
  token: string;
  expiresInMinutes: number;
}

export interface EmailSender {
  sendMagicLink(email: MagicLinkEmail): Promise<void>;
}

class ConsoleSender implements EmailSender {
  async sendMagicLink({ to, url }: MagicLinkEmail) {
    process.stdout.write(`magic-link ${to} ${url}\n`);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function magicLinkText({ url, token, expiresInMinutes }: MagicLinkEmail): { text: string; html: string } {
  const text = `Sign in to Roomz:\n\n${url}\n\nIn a terminal, type:\n/token ${token}\n\nThe link works once and expires in ${expiresInMinutes} minutes. If you did not ask for it, ignore this email.\n`;
  const html = `<p>Sign in to Roomz:</p><p><a href="${escapeHtml(url)}">Sign in</a></p><p>In a terminal, type:<br><code>/token ${escapeHtml(token)}</code></p><p>The link works once and expires in ${expiresInMinutes} minutes. If you did not ask for it, ignore this email.</p>`;
  return { text, html };
}

class ResendSender implements EmailSender {
  private client: Resend;
  constructor(apiKey: string, private from: string) {
    this.client = new Resend(apiKey);
  }

  async sendMagicLink(email: MagicLinkEmail) {
    const { text, html } = magicLinkText(email);
    const { error } = await this.client.emails.send({ from: this.from, to: email.to, subject: "Your Roomz sign-in link", text, html });
    // The SDK reports API failures as values; the message never carries our token.
    if (error) throw new Error(`Resend refused the email: ${error.name ?? "error"}: ${error.message ?? ""}`);
  }
}

export function createEmailSender(config: Config): EmailSender {
  return config.emailSender === "resend" ? new ResendSender(config.resendApiKey!, config.emailFrom) : new ConsoleSender();
}
