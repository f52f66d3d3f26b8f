/**
 * File metadata in Redis, shared by every instance. A user's records and byte count share
 * the user's hash tag, so the quota check and the addition are one script even on a
 * cluster; the cleanup index and the blobs' reference counts are global keys, touched
 * once per upload and per deletion, off the message path.
 */
import { channelOf, emailOf, type FileInfo } from "../../protocol";
import type { AddFileResult, FileRecord, FileStore, RemovedFile } from "../file-store";
import type { Keyspace } from "./keys";
import type { Link } from "./redis-link";
import { ADD_FILE, CLAIM_FILES, RELEASE_BLOB, REMOVE_ORPHAN } from "./scripts";

function info(record: FileInfo): FileInfo {
  const { id, name, type, size, sha256, width, height } = record;
  return { id, name, type, size, sha256, width, height };
}

export class RedisFileStore implements FileStore {
  constructor(private link: Link, private keys: Keyspace) {}

  async add(record: FileRecord, quotaBytes: number): Promise<AddFileResult> {
    const channel = channelOf(record.email);
    // The reference comes first: a blob is never deleted while an upload of it is under way.
    await this.link.run("HINCRBY", [this.keys.blobRefs, record.sha256, "1"]);
    const added = await this.link.script<number>(
      ADD_FILE,
      [this.keys.files(channel), this.keys.fileUsage(channel)],
      [record.id, JSON.stringify(record), String(record.size), String(quotaBytes)],
    );
    if (added !== 1) {
      await this.link.script(RELEASE_BLOB, [this.keys.blobRefs], [record.sha256]);
      return "quota_exceeded";
    }
    await this.link.run("ZADD", [this.keys.pendingFiles, String(record.createdAt), `${channel} ${record.id}`]);
    return "ok";
  }

  async usage(email: string) {
    return Number((await this.link.run<string | null>("GET", [this.keys.fileUsage(channelOf(email))])) ?? 0);
  }

  async get(email: string, id: string): Promise<FileRecord | null> {
    const json = await this.link.run<string | null>("HGET", [this.keys.files(channelOf(email)), id]);
    return json ? (JSON.parse(json) as FileRecord) : null;
  }

  async claim(email: string, ids: string[]): Promise<FileInfo[] | null> {
    const channel = channelOf(email);
    const records = await this.link.script<string[] | null>(CLAIM_FILES, [this.keys.files(channel)], ids);
    if (!records) return null;
    await this.link.run("ZREM", [this.keys.pendingFiles, ...ids.map((id) => `${channel} ${id}`)]);
    return records.map((json) => info(JSON.parse(json) as FileRecord));
  }

  async orphans(before: number, limit: number) {
    const members = await this.link.run<string[]>("ZRANGEBYSCORE", [this.keys.pendingFiles, "-inf", `(${before}`, "LIMIT", "0", String(limit)]);
    return members.map((member) => {
      const space = member.lastIndexOf(" ");
      return { email: emailOf(member.slice(0, space)), id: member.slice(space + 1) };
    });
  }

  async removeOrphan(email: string, id: string): Promise<RemovedFile | null> {
    const channel = channelOf(email);
    const json = await this.link.script<string | null>(REMOVE_ORPHAN, [this.keys.files(channel), this.keys.fileUsage(channel)], [id]);
    await this.link.run("ZREM", [this.keys.pendingFiles, `${channel} ${id}`]);
    if (!json) return null;
    const { sha256 } = JSON.parse(json) as FileRecord;
    const left = await this.link.script<number>(RELEASE_BLOB, [this.keys.blobRefs], [sha256]);
    return { sha256, lastOfBlob: left <= 0 };
  }

  async blobInUse(sha256: string) {
    return Number((await this.link.run<string | null>("HGET", [this.keys.blobRefs, sha256])) ?? 0) > 0;
  }
}
