/** Builds the embedded store: one SQLite database for messages, sign-in and sessions. */
import type { Config } from "../../server/config";
import type { Store } from "../index";
import type { TopicPublisher } from "../local-fanout";
import { SqliteAuthStore } from "./auth-store-sqlite";
import { Checkpointer } from "./checkpointer";
import { DATABASE_FILE, claimDataDir, openDatabase } from "./database";
import { join } from "node:path";
import { EmbeddedEngine } from "./engine-embedded";

const PRUNE_EVERY_MS = 10 * 60_000;

export function createEmbeddedStore(config: Config, publish: TopicPublisher): Store {
  const ownership = claimDataDir(config.dataDir);
  const db = openDatabase(config.dataDir);
  const auth = new SqliteAuthStore(db);
  const checkpointer = new Checkpointer(join(config.dataDir, DATABASE_FILE));
  const engine = new EmbeddedEngine(db, publish, () => checkpointer.nudge());
  auth.prune(Date.now());
  const pruner = setInterval(() => auth.prune(Date.now()), PRUNE_EVERY_MS);
  pruner.unref();
  return {
    engine,
    auth,
    async close() {
      clearInterval(pruner);
      await engine.close();
      await checkpointer.close();
      db.close();
      ownership.close();
    },
  };
}
