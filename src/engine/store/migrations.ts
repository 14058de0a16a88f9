import type { Database } from 'better-sqlite3';
import { STATS_CSV_PLAIN_SQL, STATS_SCHEMA_SQL } from '../../stats/schema.js';

/**
 * Ordered schema migrations. Each runs once, inside its own transaction, and is recorded in
 * `schema_migrations`; a crash mid-migration rolls back to the previous version. To extend the
 * schema (e.g. the deployment workflow), append to MIGRATIONS, never edit an applied one.
 */
export interface Migration {
  id: number;
  name: string;
  up: string | ((db: Database) => void);
}

export const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'engine core tables',
    up: `
CREATE TABLE users (
  name TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE,
  created INTEGER NOT NULL
);
CREATE TABLE environments (
  id INTEGER PRIMARY KEY,
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  description TEXT NOT NULL,
  visibility TEXT NOT NULL CHECK (visibility IN ('public','shared','private')),
  destructive INTEGER NOT NULL DEFAULT 0,
  md5 TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL,
  UNIQUE (user, name, version)
);
CREATE INDEX environments_name ON environments(name, version);
CREATE TABLE rights (
  user TEXT NOT NULL,
  node TEXT NOT NULL,
  partition TEXT NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (user, node, partition)
);
CREATE INDEX rights_node ON rights(node);
CREATE TABLE nodes (
  name TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  env TEXT NOT NULL DEFAULT '',
  env_user TEXT NOT NULL DEFAULT '',
  destructive INTEGER NOT NULL DEFAULT 0,
  user TEXT NOT NULL DEFAULT '',
  wid TEXT NOT NULL DEFAULT '',
  updated INTEGER NOT NULL
);
CREATE TABLE workflows (
  wid TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  user TEXT NOT NULL,
  status TEXT NOT NULL,
  request TEXT NOT NULL,
  created INTEGER NOT NULL,
  finished INTEGER
);
CREATE INDEX workflows_user ON workflows(user, created);
CREATE TABLE known_hosts (
  node TEXT PRIMARY KEY,
  key TEXT NOT NULL
);
CREATE TABLE uploads (
  md5 TEXT NOT NULL,
  user TEXT NOT NULL,
  size INTEGER NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (md5, user)
);
`,
  },
  { id: 2, name: 'statistics', up: STATS_SCHEMA_SQL },
  // The OAR job a right was granted for (NULL: granted by hand): a restore request of an older job,
  // delivered late, must not revoke a newer job's rights nor restore its nodes (src/hook, src/engine/oar-restore).
  { id: 3, name: 'rights-job', up: 'ALTER TABLE rights ADD COLUMN job INTEGER;' },
  // Rows marked at write time as needing no CSV quoting, so kastat exports join them in SQLite.
  { id: 4, name: 'stats-csv-plain', up: STATS_CSV_PLAIN_SQL },
  // Durable workflows (docs/decisions/0033-durable-workflows.md): per operation and node, the last
  // micro-step completed (NULL micro: an attempt started, none completed yet), the step it entered
  // when that step cannot be redone safely, and, once known, the outcome, so an engine restart resumes each node where it was; and how often an operation was
  // resumed (its log's numbering after a restart).
  {
    id: 5,
    name: 'workflow-progress',
    up: `
CREATE TABLE workflow_progress (
  wid TEXT NOT NULL,
  node TEXT NOT NULL,
  macro TEXT,
  impl TEXT,
  attempt INTEGER,
  micro TEXT,
  entered TEXT,
  ledger TEXT,
  outcome TEXT,
  PRIMARY KEY (wid, node)
) WITHOUT ROWID;
CREATE TABLE workflow_runs (
  wid TEXT PRIMARY KEY,
  env TEXT NOT NULL DEFAULT '',
  md5 TEXT NOT NULL DEFAULT '',
  resumes INTEGER NOT NULL DEFAULT 0
);
`,
  },
  // Durable reboots and admission queue (docs/decisions/0037-durable-reboots-and-queue.md): what a
  // resumption needs that the stored request leaves out (a reboot's keys, its PXE profile), whether
  // the operation was run as a call by the engine itself (the OAR restore: its caller re-runs it,
  // it is not resumed), and the operations waiting for admission, in their order (seq), with the
  // nodes their checks kept.
  {
    id: 6,
    name: 'durable-queue',
    up: `
ALTER TABLE workflow_runs ADD COLUMN extras TEXT;
ALTER TABLE workflow_runs ADD COLUMN by_call INTEGER NOT NULL DEFAULT 0;
CREATE TABLE admission_queue (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  wid TEXT NOT NULL UNIQUE,
  nodes TEXT NOT NULL
);
`,
  },
];

/** Applies the pending migrations in id order; returns the ids applied. */
export function runMigrations(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)',
  );
  const done = new Set(
    (db.prepare('SELECT id FROM schema_migrations').all() as { id: number }[]).map((r) => r.id),
  );
  const applied: number[] = [];
  const sorted = [...migrations].sort((a, b) => a.id - b.id);
  for (const m of sorted) {
    if (done.has(m.id)) continue;
    db.transaction(() => {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      db.prepare('INSERT INTO schema_migrations (id, name, applied) VALUES (?, ?, ?)').run(
        m.id,
        m.name,
        Date.now(),
      );
    })();
    applied.push(m.id);
  }
  return applied;
}
