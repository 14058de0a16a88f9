import type Database from 'better-sqlite3';
import { stringify } from 'csv-stringify/sync';
import { neutraliseFormula } from './neutralise.js';
import { CSV_FIELD_FUNCTION } from './sql.js';

/**
 * One CSV field, RFC 4180 quoting by csv-stringify. Most values (numbers, host and step names)
 * contain nothing to quote and are written as they are — exactly what csv-stringify would produce
 * for them; only values holding a comma, a quote, CR or LF go through csv-stringify. Records end
 * with LF, as Kadeploy's output did, so `sed -n '$p'` and `tail -1` keep working.
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
  return NEEDS_QUOTING.test(s) ? stringify([[s]], { eof: false }) : s;
}

/** Makes `CSV_FIELD_FUNCTION` callable by the statements of this connection. */
export function registerCsvField(db: Database.Database): void {
  db.function(CSV_FIELD_FUNCTION, { deterministic: true }, (v: unknown) => csvField(v));
}
