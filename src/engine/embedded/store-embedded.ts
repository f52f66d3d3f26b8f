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
import { SqliteTokenStore } from "./token-store-sqlite";

const PRUNE_EVERY_MS = 10 * 60_000;

export function createEmbeddedStore(options: StoreOptions, events: EngineEvents): Store {
  const ownership = claimDataDir(options.dataDir);
  const db = openDatabase(options.dataDir);
  const auth = new SqliteAuthStore(db);
  const tokens = new SqliteTokenStore(db);
  const checkpointer = new Checkpointer(join(options.dataDir, DATABASE_FILE));
  const engine = new EmbeddedEngine(db, events, () => checkpointer.nudge());
  const prune = () => {
    auth.prune(Date.now());
    tokens.prune(Date.now());
  };
  prune();
  const pruner = setInterval(prune, PRUNE_EVERY_MS);
  pruner.unref();
  return {
    engine,
    auth,
    files: new SqliteFileStore(db),
    push: new SqlitePushStore(db),
    tokens,
    async close() {
      clearInterval(pruner);
      await engine.close();
      await checkpointer.close();
      db.close();
      ownership.close();
    },
  };
}
