/** Deployment statistics: recording, querying, CSV export, failure rates, the /stats routes. */

export { fetchStats } from '../client/stats/fetch-stats.js';
export { type KastatFlags, kastatQuery } from '../client/stats/kastat-flags.js';
export { DATE_FORMATS, parseStatsDate } from './dates.js';
export { type CsvExportOptions, exportStatsCsv } from './export-csv.js';
export { failureRates, formatFailureRate, type NodeFailureRate } from './failure-rates.js';
export {
  DEFAULT_FIELDS,
  parseFields,
  RETRY_DEFAULT_FIELDS,
  STATS_FIELDS,
  type StatsField,
} from './fields.js';
export { neutraliseFormula } from './neutralise.js';
export { parseStatsQuery, type RawStatsQuery, type StatsQuery } from './query.js';
export { recordStats } from './record-stats.js';
export { type StatsRouteContext, statsRoutes } from './routes-stats.js';
export { STATS_SCHEMA_SQL, type StatsRow } from './schema.js';
export { openStatsReader, type StatsSource } from './stats-source.js';
