/**
 * The setup the protocol suites share: users of the suite's own on the allow-list (each
 * test takes fresh ones, so channels and seq numbers never mix), a JWT key the suite knows
 * (sessions outlive a restart or a swapped data directory), and limits roomy enough that
 * only the tests about limits meet them.
 */
import { startServer, type StartOptions, type TestServer } from "./server";

export interface TestSuite {
  /** `<prefix>1@example.com` ... `<prefix><count>@example.com`. */
  users: string[];
  jwtSecretKey: string;
  /** A user no other test of this file has had yet (until they wrap around). */
  freshUser(): string;
  /** The server environment: these users, this key, roomy limits; `overrides` win. */
  env(overrides?: Record<string, string>): Record<string, string>;
  start(overrides?: Record<string, string>, options?: Omit<StartOptions, "env">): Promise<TestServer>;
}

export function testSuite(prefix: string, count: number, jwtSecretKey: string): TestSuite {
  const users = Array.from({ length: count }, (_, i) => `${prefix}${i + 1}@example.com`);
  let next = 0;
  const env = (overrides: Record<string, string> = {}) => ({
    ALLOWED_EMAILS: users.join(","),
    JWT_SECRET_KEY: jwtSecretKey,
    MAGIC_LINK_RATE_LIMIT: "1000",
    MAGIC_LINK_IP_RATE_LIMIT: "100000",
    MESSAGE_RATE_LIMIT: "100000",
    ...overrides,
  });
  return {
    users,
    jwtSecretKey,
    freshUser: () => users[next++ % users.length],
    env,
    start: (overrides = {}, options = {}) => startServer({ ...options, env: env(overrides) }),
  };
}
