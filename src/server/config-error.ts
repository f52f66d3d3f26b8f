/** A bad configuration value: one line naming the variable and the fix (exit status 2). */
export class ConfigError extends Error {}

export function fail(name: string, fix: string): never {
  throw new ConfigError(`${name}: ${fix}`);
}
