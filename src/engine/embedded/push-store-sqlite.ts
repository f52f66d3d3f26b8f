/** Web Push subscriptions in the embedded SQLite database. */
import type { Database } from "bun:sqlite";
import type { PushStore, PushSubscriptionRecord } from "../push-store";

interface Row {
  endpoint: string;
  p256dh: string;
  auth: string;
  device: string;
  jti: string;
  session_version: number;
  session_expires_at: number;
  created_at: number;
}

export class SqlitePushStore implements PushStore {
  private q;

  constructor(private db: Database) {
    this.q = {
      countOthers: db.query<{ n: number }, [string, string]>("SELECT count(*) AS n FROM push_subscriptions WHERE email = ? AND endpoint <> ?"),
      save: db.query(
        `INSERT OR REPLACE INTO push_subscriptions (email, endpoint, p256dh, auth, device, jti, session_version, session_expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      list: db.query<Row, [string]>(
        "SELECT endpoint, p256dh, auth, device, jti, session_version, session_expires_at, created_at FROM push_subscriptions WHERE email = ? ORDER BY created_at, endpoint",
      ),
      remove: db.query("DELETE FROM push_subscriptions WHERE email = ? AND endpoint = ?"),
    };
  }

  async savePushSubscription(email: string, r: PushSubscriptionRecord, max: number): Promise<boolean> {
    return this.db.transaction((): boolean => {
      if (this.q.countOthers.get(email, r.endpoint)!.n >= max) return false;
      this.q.save.run(email, r.endpoint, r.p256dh, r.auth, r.device, r.jti, r.sessionVersion, r.sessionExpiresAt, r.createdAt);
      return true;
    }).immediate();
  }

  async pushSubscriptions(email: string): Promise<PushSubscriptionRecord[]> {
    return this.q.list.all(email).map((row) => ({
      endpoint: row.endpoint,
      p256dh: row.p256dh,
      auth: row.auth,
      device: row.device,
      jti: row.jti,
      sessionVersion: row.session_version,
      sessionExpiresAt: row.session_expires_at,
      createdAt: row.created_at,
    }));
  }

  async deletePushSubscription(email: string, endpoint: string): Promise<boolean> {
    return this.q.remove.run(email, endpoint).changes > 0;
  }
}
