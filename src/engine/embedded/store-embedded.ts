/** Builds the embedded store: one SQLite database for messages, sign-in and sessions. */
import type { Config } from "../../server/config";
import type { Store } from "../index";
import type { TopicPublisher } from "../local-fanout";
import { SqliteAuthStore } from "./auth-store-sqlite";
import { openDatabase } from "./database";
import { EmbeddedEngine } from "./engine-embedded";

const PRUNE_EVERY_MS = 10 * 60_000;

export function createEmbeddedStore(config: Config, publish: TopicPublisher): Store {
  const db = openDatabase(config.dataDir);
  const auth = new SqliteAuthStore(db);
  const engine = new EmbeddedEngine(db, publish);
  auth.prune(Date.now());
  const pruner = setInterval(() => auth.prune(Date.now()), PRUNE_EVERY_MS);
  pruner.unref();
  return {
    engine,
    auth,
    async close() {
      clearInterval(pruner);
      await engine.close();
      db.close();
    },
  };
}
