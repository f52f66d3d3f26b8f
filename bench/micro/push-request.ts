/**
 * CPU per Web Push request on the event loop: web-push's generateRequestDetails (RFC 8291
 * aes128gcm encryption, with a fresh ECDH key per push, and the RFC 8292 VAPID JWT, signed
 * with ES256) for one subscription, against the encryption alone with the VAPID header
 * made once and reused (what a per-origin cache of the header would cost).
 *
 *   flock /tmp/roomz-heavy.lock node_modules/.bin/bun bench/micro/push-request.ts
 */
import { createECDH, randomBytes } from "node:crypto";
import webPush from "web-push";

const vapid = webPush.generateVAPIDKeys();
const browser = createECDH("prime256v1");
browser.generateKeys();
const subscription = { endpoint: "https://push.example.net/send/abc", keys: { p256dh: browser.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") } };
const body = JSON.stringify({ seq: 1234, sender: "Laptop", preview: "x".repeat(120), files: [] });
const base = { TTL: 86400, urgency: "normal" as const, contentEncoding: "aes128gcm" as const };
const signed = { ...base, vapidDetails: { ...vapid, subject: "mailto:ops@example.com" } };
const header = webPush.getVapidHeaders("https://push.example.net", "mailto:ops@example.com", vapid.publicKey, vapid.privateKey, "aes128gcm");
const cached = { ...base, headers: { Authorization: header.Authorization } };

function perCall(label: string, run: () => unknown, n = 2000): void {
  for (let i = 0; i < 200; i++) run();
  const samples: number[] = [];
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    for (let i = 0; i < n; i++) run();
    samples.push(((performance.now() - started) / n) * 1000);
  }
  samples.sort((a, b) => a - b);
  console.log(`${label}: median ${samples[2].toFixed(0)} µs per push (5 rounds of ${n}: ${samples.map((s) => s.toFixed(0)).join(", ")})`);
}

perCall("generateRequestDetails, VAPID signed each time", () => webPush.generateRequestDetails(subscription, body, signed));
perCall("generateRequestDetails, VAPID header reused  ", () => webPush.generateRequestDetails(subscription, body, cached));
