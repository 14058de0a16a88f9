import type Database from 'better-sqlite3';
import { KaployError } from '../common/errors.js';
import { STATS_FIELDS } from './fields.js';
import type { StatsRow } from './schema.js';

/**
 * Writes the statistics rows of one operation (one row per node) in one transaction, so a
 * crash never leaves half an operation's rows (inside a caller's transaction it is a savepoint).
 * Rows are checked first: a malformed row is a bug in the caller, and refusing it keeps the export
 * (kastat3) free of values it cannot format. Seconds are rounded to whole seconds.
 *
 * Kadeploy 3.3 never filled md5 (reference §4): a successful deploy row must carry the md5 of the
 * image that was broadcast (32 lowercase hex digits); failed deploy rows (the image may never have
 * been read) and reboot/power rows may leave it empty.
 */
export function recordStats(db: Database.Database, rows: readonly StatsRow[]): void {
  if (rows.length === 0) return;
  for (const r of rows) checkRow(r);
  const insert = insertStatement(db);
  db.transaction((batch: readonly StatsRow[]) => {
    for (const r of batch) insert.run(toParams(r));
  })(rows);
}

// The table's columns: every kastat field but `site`, which the grid adds when merging sites.
const COLUMNS = STATS_FIELDS.filter((f) => f !== 'site');

const INSERT_SQL = `INSERT INTO stats (${COLUMNS.join(',')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(',')})`;

// One prepared statement per database handle: preparing costs more than running a small insert.
const statements = new WeakMap<Database.Database, Database.Statement>();
function insertStatement(db: Database.Database): Database.Statement {
  let s = statements.get(db);
  if (!s) {
    s = db.prepare(INSERT_SQL);
    statements.set(db, s);
  }
  return s;
}

function toParams(r: StatsRow): Record<string, string | number> {
  const p: Record<string, string | number> = {
    ...r,
    anonymous_env: r.anonymous_env ? 1 : 0,
    success: r.success ? 1 : 0,
  };
  // Kadeploy stores whole seconds; a timeout computed from an expression (200+150*log(n)) may not be.
  for (const f of INT_FIELDS) p[f] = Math.round(r[f]);
  return p;
}

const INT_FIELDS = [
  'timeout_step1',
  'timeout_step2',
  'timeout_step3',
  'retry_step1',
  'retry_step2',
  'retry_step3',
  'start',
  'step1_duration',
  'step2_duration',
  'step3_duration',
] as const;
const STR_FIELDS = ['wid', 'user', 'hostname', 'step1', 'step2', 'step3', 'env', 'md5', 'error'] as const;

function checkRow(r: StatsRow): void {
  const bad = (what: string) =>
    new KaployError('KAPLOY_INTERNAL', `invalid statistics row for node ${String(r.hostname)}: ${what}`, {
      node: String(r.hostname),
    });
  if (r.operation !== 'deploy' && r.operation !== 'reboot' && r.operation !== 'power')
    throw bad(`unknown operation '${String(r.operation)}'`);
  for (const f of STR_FIELDS) if (typeof r[f] !== 'string') throw bad(`${f} must be a string`);
  for (const f of INT_FIELDS) {
    const v = r[f];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
      throw bad(`${f} must be a non-negative number of seconds (got ${String(v)})`);
    }
  }
  if (typeof r.success !== 'boolean' || typeof r.anonymous_env !== 'boolean')
    throw bad('success and anonymous_env must be booleans');
  if (r.wid === '' || r.user === '' || r.hostname === '') throw bad('wid, user and hostname are required');
  if (r.md5 !== '' && !/^[0-9a-f]{32}$/.test(r.md5))
    throw bad(`md5 must be 32 lowercase hex digits (got '${r.md5}')`);
  // A failed deployment may end before the image was read (download or checksum failure).
  if (r.operation === 'deploy' && r.success && r.md5 === '')
    throw bad('a successful deploy row must carry the md5 of the deployed image');
}
