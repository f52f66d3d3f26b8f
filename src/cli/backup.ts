/** `roomz backup FILE` and `roomz restore FILE` (PROTOCOL.md section 5): flags onto the embedded store's backup. */
import { resolve } from "node:path";
import { BackupError, backupStore, restoreStore, type BackupExtra } from "../engine/embedded/backup";
import { addBlobsToBackup, restoreBlobsFromBackup } from "../files/backup-blobs";

/** The uploaded files' contents travel with the database. */
const FILES: BackupExtra = { add: addBlobsToBackup, take: restoreBlobsFromBackup };
import { DatabaseUnusable } from "../engine/embedded/database";

const BACKUP_HELP = `Usage: roomz backup FILE

Writes a consistent copy of the embedded store (messages, sign-in state, uploaded files
kept in the data directory, generated keys)
to FILE (mode 0600), while the server runs. The store is the one in $ROOMZ_DATA_DIR
(default ./roomz-data). With REDIS_URL, back up Redis itself (docs/deployment.md).
`;

const RESTORE_HELP = `Usage: roomz restore FILE

With the server stopped, replaces the store in $ROOMZ_DATA_DIR (default ./roomz-data)
with the backup in FILE and gives it a new epoch: clients that saw later messages start
over from the restored history instead of skipping new messages. Logouts made after the
backup stay in force.
`;

type Job = (dataDir: string, file: string) => string;

function run(argv: string[], help: string, job: Job): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(help);
    return 0;
  }
  const unknown = argv.find((arg) => arg.startsWith("-") && arg !== "-");
  if (unknown !== undefined || argv.length !== 1) {
    process.stderr.write(`${unknown !== undefined ? `Unknown option ${unknown}.` : "Give exactly one FILE."}\n\n${help}`);
    return 2;
  }
  if (process.env.REDIS_URL?.trim()) {
    process.stderr.write("roomz: REDIS_URL is set: the store is in Redis; back it up and restore it with Redis's own snapshots (docs/deployment.md)\n");
    return 2;
  }
  const dataDir = resolve(process.env.ROOMZ_DATA_DIR?.trim() || "./roomz-data");
  try {
    process.stdout.write(job(dataDir, resolve(argv[0])) + "\n");
    return 0;
  } catch (error) {
    if (error instanceof BackupError || error instanceof DatabaseUnusable) {
      process.stderr.write(`roomz: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`roomz: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}

export async function runBackup(argv: string[]): Promise<number> {
  process.umask(0o077);
  return run(argv, BACKUP_HELP, (dataDir, file) => {
    const s = backupStore(dataDir, file, FILES);
    return `backed up ${s.messages} messages in ${s.channels} channels, ${s.extras} uploaded file(s) and ${s.files} key file(s) to ${file} (${s.bytes} bytes)`;
  });
}

export async function runRestore(argv: string[]): Promise<number> {
  process.umask(0o077);
  return run(argv, RESTORE_HELP, (dataDir, file) => {
    const s = restoreStore(dataDir, file, FILES);
    const when = s.backupAt ? ` (backed up ${s.backupAt})` : "";
    return `restored ${s.messages} messages in ${s.channels} channels and ${s.extras} uploaded file(s)${when} into ${dataDir}; new epoch ${s.epoch}: clients start over from the restored history`;
  });
}
