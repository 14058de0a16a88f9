import { stringify } from 'csv-stringify/sync';
import { neutraliseFormula } from './neutralise.js';

/**
 * One CSV record per stats row, RFC 4180 quoting by csv-stringify. Most values (numbers, host and
 * step names) contain nothing to quote and are written as they are — exactly what csv-stringify
 * would produce for them; only values holding a comma, a quote, CR or LF go through csv-stringify.
 * Handing every one of the 20 million fields of a million-row export to csv-stringify's stream
 * costs about three times the whole export's floor (see docs/kastat3.md), hence this split.
 */
const NEEDS_QUOTING = /[",\r\n]/;

function csvField(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === null || value === undefined) return '';
  const s = neutraliseFormula(String(value));
  return NEEDS_QUOTING.test(s) ? stringify([[s]], { eof: false }) : s;
}

/**
 * Records end with LF, as Kadeploy's output did, so `sed -n '$p'` and `tail -1` keep working.
 * `preEncoded[i]` marks a segment SQLite already joined from numbers and booleans (sql.ts).
 */
export function csvRecord(values: readonly unknown[], preEncoded: readonly boolean[]): string {
  let line = preEncoded[0] ? (values[0] as string) : csvField(values[0]);
  for (let i = 1; i < values.length; i++)
    line += `,${preEncoded[i] ? (values[i] as string) : csvField(values[i])}`;
  return `${line}\n`;
}
