/**
 * `host:port` addresses to listen on (METRICS_LISTEN): an IPv4 literal, an IPv6 literal in
 * brackets (`[::1]:9100`) or a host name, then a port from 0 to 65535.
 */
import { isIPv4, isIPv6 } from "node:net";

export interface ListenAddress {
  /** As Bun.serve takes it: IPv6 without brackets. */
  host: string;
  port: number;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The address, or what is wrong with it and how to fix it (a sentence). */
export function parseListenAddress(raw: string): ListenAddress | string {
  const example = "set it to host:port, like 127.0.0.1:9100 or [::1]:9100";
  const match = /^(\[[^\]]*\]|[^:\[\]]*):(\d{1,5})$/.exec(raw);
  if (!match) return `"${raw}" is not host:port; ${example}.`;
  const [, given, portText] = match;
  const port = Number(portText);
  if (port > 65535) return `port ${port} is out of range; ${example} (ports 0 to 65535).`;
  if (given.startsWith("[")) {
    const host = given.slice(1, -1);
    return isIPv6(host) ? { host, port } : `"${given}" is not an IPv6 address; ${example}.`;
  }
  // A dotted name of numbers only is a mistyped IPv4 address, not a host name.
  if (isIPv4(given) || (HOST_NAME.test(given) && !/^[\d.]+$/.test(given))) return { host: given, port };
  return `"${given}" is not an IP address or host name; ${example}.`;
}

/** The address as a URL authority: IPv6 in brackets. */
export function formatListenAddress(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}
