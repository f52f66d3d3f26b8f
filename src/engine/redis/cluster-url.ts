/** REDIS_URL for a Redis Cluster: `redis+cluster://[user:password@]host:port[,host:port...]`. */
import { redactUrl } from "../../log";

export interface ClusterAddress {
  seeds: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  tls: boolean;
}

/** `redis+cluster://[user:password@]host:port[,host:port...]` (`rediss+cluster://` for TLS). */
export function parseClusterUrl(url: string): ClusterAddress {
  const match = /^(redis|rediss|valkey)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/i.exec(url.trim());
  if (!match) throw new Error(`"${redactUrl(url)}" is not a cluster URL: use redis+cluster://host:port[,host:port...]`);
  const [, scheme, auth, hosts] = match;
  const seeds = hosts.split(",").map((hostPort) => {
    const at = hostPort.lastIndexOf(":");
    const host = at > 0 ? hostPort.slice(0, at).replace(/^\[|\]$/g, "") : hostPort;
    const port = at > 0 ? Number(hostPort.slice(at + 1)) : 6379;
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${hostPort}" in REDIS_URL is not host:port`);
    return { host, port };
  });
  let username: string | undefined;
  let password: string | undefined;
  if (auth !== undefined) {
    const colon = auth.indexOf(":");
    username = colon >= 0 ? decodeURIComponent(auth.slice(0, colon)) || undefined : decodeURIComponent(auth) || undefined;
    password = colon >= 0 ? decodeURIComponent(auth.slice(colon + 1)) || undefined : undefined;
  }
  return { seeds, username, password, tls: scheme.toLowerCase() === "rediss" };
}

