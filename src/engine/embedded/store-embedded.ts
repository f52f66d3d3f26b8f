/** Builds the embedded store: one SQLite database for messages, sign-in, sessions and push subscriptions. */
import type { EngineEvents } from "../engine";
import type { Store, StoreOptions } from "../index";
import { SqliteAuthStore } from "./auth-store-sqlite";
import { Checkpointer } from "./checkpointer";
import { DATABASE_FILE, claimDataDir, openDatabase } from "./database";
import { join } from "node:path";
import { EmbeddedEngine } from "./engine-embedded";
import { SqliteFileStore } from "./file-store-sqlite";
import { SqlitePushStore } from "./push-store-sqlite";

const PRUNE_EVERY_MS = 10 * 60_000;

export function createEmbeddedStore(options: StoreOptions, events: EngineEvents): Store {
  const ownership = claimDataDir(options.dataDir);
  const db = openDatabase(options.dataDir);
  const auth = new SqliteAuthStore(db);
  const checkpointer = new Checkpointer(join(options.dataDir, DATABASE_FILE));
  const engine = new EmbeddedEngine(db, events, () => checkpointer.nudge());
  auth.prune(Date.now());
  const pruner = setInterval(() => auth.prune(Date.now()), PRUNE_EVERY_MS);
  pruner.unref();
  return {
    engine,
    auth,
    files: new SqliteFileStore(db),
    push: new SqlitePushStore(db),
    async close() {
      clearInterval(pruner);
      await engine.close();
      await checkpointer.close();
      db.close();
      ownership.close();
    },
  };
}
