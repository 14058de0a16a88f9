/**
 * The statistics table: one row per node per operation (deploy, reboot, power), written by every
 * operation including failed and cancelled ones. Columns follow Kadeploy's stats table
 * (reference §4). Included in the engine store's migrations (src/engine/store).
 */
export const STATS_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS stats (
  id INTEGER PRIMARY KEY,
  wid TEXT NOT NULL,
  operation TEXT NOT NULL CHECK (operation IN ('deploy','reboot','power')),
  user TEXT NOT NULL,
  hostname TEXT NOT NULL,
  step1 TEXT NOT NULL DEFAULT '',
  step2 TEXT NOT NULL DEFAULT '',
  step3 TEXT NOT NULL DEFAULT '',
  timeout_step1 INTEGER NOT NULL DEFAULT 0,
  timeout_step2 INTEGER NOT NULL DEFAULT 0,
  timeout_step3 INTEGER NOT NULL DEFAULT 0,
  retry_step1 INTEGER NOT NULL DEFAULT 0,
  retry_step2 INTEGER NOT NULL DEFAULT 0,
  retry_step3 INTEGER NOT NULL DEFAULT 0,
  start INTEGER NOT NULL,
  step1_duration INTEGER NOT NULL DEFAULT 0,
  step2_duration INTEGER NOT NULL DEFAULT 0,
  step3_duration INTEGER NOT NULL DEFAULT 0,
  env TEXT NOT NULL DEFAULT '',
  anonymous_env INTEGER NOT NULL DEFAULT 0,
  md5 TEXT NOT NULL DEFAULT '',
  success INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS stats_start ON stats(start, id);
CREATE INDEX IF NOT EXISTS stats_host ON stats(hostname);
CREATE INDEX IF NOT EXISTS stats_wid ON stats(wid);
`;

/**
 * Text fields a CSV record may need to quote or neutralise, and the SQL test that one needs
 * neither: no quote, comma, CR or LF, no leading = + - @ TAB CR (csv-encode.ts, neutralise.ts).
 * The test is conservative (a leading '-' of a number also fails it); failing only costs speed.
 */
const STATS_TEXT_FIELDS = [
  'wid',
  'operation',
  'user',
  'hostname',
  'step1',
  'step2',
  'step3',
  'env',
  'md5',
  'error',
] as const;
export const plainTextSql = (f: string): string =>
  `(typeof(${f}) = 'text' AND NOT (${f} GLOB '*[",\n\r]*' OR ${f} GLOB '[=+@\t\r-]*'))`;
/** Integer fields; a plain row holds integers in them (not text or reals), written as they are. */
export const STATS_INTEGER_FIELDS = [
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
const PLAIN_ROW = [
  ...STATS_TEXT_FIELDS.map((f) => plainTextSql(`NEW.${f}`)),
  ...STATS_INTEGER_FIELDS.map((f) => `typeof(NEW.${f}) = 'integer'`),
].join(' AND ');

/**
 * `csv_plain` = 1 when none of the row's text fields needs CSV quoting or formula neutralisation
 * and its integer fields hold integers,
 * computed once when the row is written, so an export writes most rows as SQLite joins them and
 * tests each value only in the rare rows that need it (docs/kastat3.md: testing every value of a
 * million-row export cost more than the whole export of sqlite3 -csv). 0 (the default) is always
 * correct: such a row takes the checked path. Migration 4 of the engine store; the backfill marks
 * the rows written before it.
 */
export const STATS_CSV_PLAIN_SQL = `
ALTER TABLE stats ADD COLUMN csv_plain INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER stats_csv_plain_insert AFTER INSERT ON stats BEGIN
  UPDATE stats SET csv_plain = (${PLAIN_ROW}) WHERE id = NEW.id;
END;
CREATE TRIGGER stats_csv_plain_update AFTER UPDATE OF ${[...STATS_TEXT_FIELDS, ...STATS_INTEGER_FIELDS].join(', ')} ON stats BEGIN
  UPDATE stats SET csv_plain = (${PLAIN_ROW}) WHERE id = NEW.id;
END;
UPDATE stats SET csv_plain = (${PLAIN_ROW.replaceAll('NEW.', '')});
`;

/** A row as the workflow writes it (timeouts in seconds, durations in seconds, start epoch s). */
export interface StatsRow {
  wid: string;
  operation: 'deploy' | 'reboot' | 'power';
  user: string;
  hostname: string;
  step1: string;
  step2: string;
  step3: string;
  timeout_step1: number;
  timeout_step2: number;
  timeout_step3: number;
  retry_step1: number;
  retry_step2: number;
  retry_step3: number;
  start: number;
  step1_duration: number;
  step2_duration: number;
  step3_duration: number;
  env: string;
  anonymous_env: boolean;
  md5: string;
  success: boolean;
  error: string;
}
