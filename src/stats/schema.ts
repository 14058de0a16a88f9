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
