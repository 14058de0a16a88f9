import type Database from 'better-sqlite3';
import { neutraliseFormula } from './neutralise.js';
import { CSV_FIELD_FUNCTION } from './sql.js';

/**
 * One CSV field, RFC 4180 quoting as csv-stringify writes it with its default options: a value
 * holding a comma, a quote, CR or LF is enclosed in quotes, its quotes doubled; any other is
 * written as it is. Written here rather than through csv-stringify, whose per-call option
 * handling cost more than the rest of encoding the failed rows of an export (docs/kastat3.md);
 * test/stats/csv-encode.test.ts checks it against csv-stringify. Records end with LF, as
 * Kadeploy's output did, so `sed -n '$p'` and `tail -1` keep working.
 *
 * An export encodes the common case in SQL (sql.ts) and calls this, through `registerCsvField`,
 * for the rest: the SQL fast path must give what this gives, which test/stats/export-csv.test.ts
 * checks value by value.
 */
const NEEDS_QUOTING = /[",\r\n]/;

export function csvField(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return '';
  const s = neutraliseFormula(String(value));
  return NEEDS_QUOTING.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Makes `CSV_FIELD_FUNCTION` callable by the statements of this connection. */
export function registerCsvField(db: Database.Database): void {
  db.function(CSV_FIELD_FUNCTION, { deterministic: true }, (v: unknown) => csvField(v));
}
