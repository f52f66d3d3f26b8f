/**
 * Which push endpoints the server may send requests to (PROTOCOL.md section 8): `https:`
 * URLs whose host is, and still resolves to, public addresses only, unless the endpoint's
 * origin is listed in PUSH_ENDPOINT_ALLOW. Checked when a subscription is registered and
 * again before every push, so a name that later resolves to a private, loopback or
 * link-local address gets nothing (a subscription must not become a way to reach the
 * server's own network).
 */
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { fail } from "../config-error";
import { unmappedIpv4 } from "../request";

/** Longer endpoints are refused; real push services use well under 1,000 characters. */
export const MAX_ENDPOINT_LENGTH = 2048;

/** Every range that is not a public unicast address (IANA special-purpose registries). */
const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15],
  ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, "ipv4");
// IPv6: everything outside global unicast (2000::/3: loopback, unspecified, IPv4-mapped,
// unique local fc00::/7, link-local fe80::/10, multicast), and inside it the ranges that
// embed or reach other addresses (NAT64, Teredo, 6to4), documentation and ORCHID.
NOT_PUBLIC.addRange("::", "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ipv6");
NOT_PUBLIC.addRange("4000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ipv6");
for (const [net, bits] of [["2001::", 23], ["2001:db8::", 32], ["2002::", 16], ["3fff::", 20]] as const) NOT_PUBLIC.addSubnet(net, bits, "ipv6");

/** True for a public unicast IPv4 or IPv6 address (IPv4-mapped IPv6 judged as IPv4). */
export function isPublicAddress(address: string): boolean {
  if (isIP(address) === 0) return false;
  const ip = unmappedIpv4(address);
  return !NOT_PUBLIC.check(ip, isIP(ip) === 4 ? "ipv4" : "ipv6");
}

/** PUSH_ENDPOINT_ALLOW: comma-separated http(s) origins. */
export function parseEndpointAllow(raw: string | undefined): string[] {
  const origins: string[] = [];
  for (const entry of (raw ?? "").split(",").map((e) => e.trim()).filter(Boolean)) {
    let url: URL | null = null;
    try {
      url = new URL(entry);
    } catch {}
    const originOnly = url && url.pathname === "/" && url.search === "" && url.hash === "" && url.username === "" && url.password === "";
    if (!url || !originOnly || (url.protocol !== "https:" && url.protocol !== "http:"))
      fail("PUSH_ENDPOINT_ALLOW", `"${entry}" is not an origin; list origins like https://push.internal.example:8443, separated by commas.`);
    origins.push(url.origin);
  }
  return origins;
}

export type EndpointVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** The addresses a host name resolves to (all of them); [] when it does not resolve. */
async function addressesOf(hostname: string): Promise<string[]> {
  try {
    return (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

/** Whether the server may send pushes to `endpoint` now; the reason is a sentence for the user. */
export async function checkEndpoint(endpoint: string, allowed: readonly string[]): Promise<EndpointVerdict> {
  if (endpoint.length > MAX_ENDPOINT_LENGTH) return { ok: false, reason: `the endpoint is longer than ${MAX_ENDPOINT_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { ok: false, reason: "the endpoint is not a URL" };
  }
  if (url.username !== "" || url.password !== "") return { ok: false, reason: "the endpoint carries a user name or password" };
  if (allowed.includes(url.origin)) return { ok: true, url };
  if (url.protocol !== "https:") return { ok: false, reason: "the endpoint is not an https: URL" };
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const addresses = isIP(host) ? [host] : await addressesOf(host);
  if (addresses.length === 0) return { ok: false, reason: `the endpoint's host ${host} does not resolve` };
  if (!addresses.every(isPublicAddress)) return { ok: false, reason: "the endpoint is not on a public address" };
  return { ok: true, url };
}
