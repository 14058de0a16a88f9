import { KaployError } from '../../common/errors.js';
import { parseStatsDate } from '../../stats/dates.js';
import { parseStatsQuery, type RawStatsQuery, type StatsKind, type StatsQuery } from '../../stats/query.js';

/** kastat3's flags after commander parsed them (Kadeploy 3.1 names, plus 3.3's that do not clash). */
export interface KastatFlags {
  dateMin?: string;
  dateMax?: string;
  listAll?: boolean;
  last?: boolean;
  listMinRetries?: string;
  listFailureRate?: boolean;
  listMinFailureRate?: string;
  field?: string[];
  fields?: string;
  machine?: string[];
  step?: string[];
  workflowId?: string;
  operation?: string;
  limit?: string;
  sort?: string;
  header?: boolean;
}

/**
 * Maps the flags to the engine's /stats query and checks it here, so bad input is reported before
 * anything is sent. Dates become epoch seconds on the client: `yyyy:mm:dd:hh:mm:ss` is the
 * user's local time, not the engine's. Without -o, only deployments are listed (Kadeploy 3.1
 * recorded nothing else, and the tutorial's `kastat3 -x DATE -d | sed -n '$p'` expects the last
 * deployment); `-o all` lists every operation, and so does -w (a workflow id names its kind).
 */
export function kastatQuery(flags: KastatFlags): { raw: RawStatsQuery; query: StatsQuery } {
  const kinds: Array<[string, StatsKind]> = [];
  if (flags.listAll) kinds.push(['-d/--list-all', 'list']);
  if (flags.last) kinds.push(['-l/--last', 'last']);
  if (flags.listMinRetries !== undefined) kinds.push(['-a/--list-min-retries', 'retries']);
  if (flags.listFailureRate) kinds.push(['-b/--list-failure-rate', 'failure-rate']);
  // -b -c RATE is one request (rates at or above RATE); only distinct listings conflict.
  if (flags.listMinFailureRate !== undefined && !flags.listFailureRate)
    kinds.push(['-c/--list-min-failure-rate', 'failure-rate']);
  if (kinds.length > 1) {
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      `choose one listing: ${kinds.map(([o]) => o).join(', ')} cannot be combined`,
    );
  }
  const raw: RawStatsQuery = { kind: kinds[0]?.[1] ?? 'list' };
  const fields = [...(flags.field ?? []), ...(flags.fields === undefined ? [] : flags.fields.split(','))];
  if (flags.fields !== undefined && flags.fields.trim() === '') {
    throw new KaployError('KAPLOY_OPTION', '-F/--fields: empty field list', { key: 'fields' });
  }
  if (fields.length > 0) raw.fields = fields.join(',');
  if (flags.machine && flags.machine.length > 0) raw.node = flags.machine;
  if (flags.step && flags.step.length > 0) raw.step = flags.step;
  if (flags.dateMin !== undefined) raw.from = String(parseStatsDate(flags.dateMin, 'start date (-x)'));
  if (flags.dateMax !== undefined) raw.to = String(parseStatsDate(flags.dateMax, 'end date (-y)'));
  if (flags.workflowId !== undefined) raw.wid = flags.workflowId;
  // -w names one operation, whatever its kind (kastat3 -w R-... lists a reboot's rows).
  const op = flags.operation ?? (flags.workflowId !== undefined ? 'all' : 'deploy');
  if (op !== 'all') raw.operation = op;
  if (flags.listMinRetries !== undefined) raw.min_retries = flags.listMinRetries;
  if (flags.listMinFailureRate !== undefined) raw.min_rate = flags.listMinFailureRate;
  if (flags.limit !== undefined) raw.limit = flags.limit;
  if (flags.sort !== undefined) raw.sort = flags.sort;
  if (flags.header) raw.header = 'true';
  return { raw, query: parseStatsQuery(raw) };
}
