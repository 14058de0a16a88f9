import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KaployError } from '../../common/errors.js';
import { EnvironmentsRepo } from './environments-repo.js';
import { KnownHostsRepo } from './known-hosts-repo.js';
import { MIGRATIONS, type Migration, runMigrations } from './migrations.js';
import { NodesRepo } from './nodes-repo.js';
import { ProgressRepo } from './progress-repo.js';
import { RightsRepo } from './rights-repo.js';
import { UploadsRepo } from './uploads-repo.js';
import { UsersRepo } from './users-repo.js';
import { WorkflowsRepo } from './workflows-repo.js';

/**
 * The engine's store: one SQLite file, one typed repository per table. Every write is synchronous
 * and committed (WAL + synchronous=FULL) before the HTTP answer is sent, so an engine killed with
 * SIGKILL restarts with everything it acknowledged.
 */
export interface Store {
  readonly file: string;
  readonly db: Database.Database;
  readonly users: UsersRepo;
  readonly environments: EnvironmentsRepo;
  readonly rights: RightsRepo;
  readonly nodes: NodesRepo;
  readonly workflows: WorkflowsRepo;
  readonly knownHosts: KnownHostsRepo;
  readonly uploads: UploadsRepo;
  readonly progress: ProgressRepo;
  /** Runs fn in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

const STORE_FILE = 'kaploy.sqlite';

export function storePath(dataDir: string): string {
  return path.join(dataDir, STORE_FILE);
}

export function openStore(file: string, opts: { migrations?: readonly Migration[] } = {}): Store {
  let db: Database.Database;
  try {
    if (file !== ':memory:') {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      ownerOnly(file);
    }
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before we answer; NORMAL could lose the last commits on power loss.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    runMigrations(db, opts.migrations ?? MIGRATIONS);
  } catch (e) {
    throw new KaployError('KAPLOY_DATABASE', `cannot open the store ${file}: ${(e as Error).message}`, {
      file,
      cause: e,
    });
  }
  return {
    file,
    db,
    users: new UsersRepo(db),
    environments: new EnvironmentsRepo(db),
    rights: new RightsRepo(db),
    nodes: new NodesRepo(db),
    workflows: new WorkflowsRepo(db),
    knownHosts: new KnownHostsRepo(db),
    uploads: new UploadsRepo(db),
    progress: new ProgressRepo(db),
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
    close: () => db.close(),
  };
}

/**
 * The store holds token hashes, private environments and every request: owner-only, whatever the
 * umask (a new directory is made 0700 above; an existing one is left as its owner made it, since
 * the store may share it). The file is created 0600 before SQLite opens it, since SQLite gives its
 * -wal and -shm files the database's mode; files of an earlier, looser run are tightened too.
 */
function ownerOnly(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}
