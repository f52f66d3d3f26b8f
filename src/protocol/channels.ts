/** Channel names: every connection of one user shares `user:<email>`. */
const PREFIX = "user:";

export function channelOf(email: string): string {
  return PREFIX + email;
}

export function emailOf(channel: string): string {
  return channel.slice(PREFIX.length);
}
