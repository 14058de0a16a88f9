import { KaployError } from '../common/errors.js';

/**
 * The fields kastat3 can print. `site` (the engine's site name, for the grid orchestrator's merged
 * CSV), `wid` (3.3) and `operation` come first, then Kadeploy 3.1's twenty fields in their `-d`
 * order (reference §4; the tutorial's sample row has 20 fields, with anonymous_env between env and
 * md5, although its prose format line omits it).
 */
export const STATS_FIELDS = [
  'site',
  'wid',
  'operation',
  'user',
  'hostname',
  'step1',
  'step2',
  'step3',
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
  'env',
  'anonymous_env',
  'md5',
  'success',
  'error',
] as const;

export type StatsField = (typeof STATS_FIELDS)[number];

/** `-d` (list all), `-l` and `-w`: the tutorial's 20 fields, from user to error. */
export const DEFAULT_FIELDS: readonly StatsField[] = STATS_FIELDS.slice(STATS_FIELDS.indexOf('user'));

/** `-a` (min retries) prints these unless -f says otherwise (Kadeploy 3.1). */
export const RETRY_DEFAULT_FIELDS: readonly StatsField[] = [
  'start',
  'hostname',
  'retry_step1',
  'retry_step2',
  'retry_step3',
];

/** Fields stored as 0/1 and printed as Kadeploy does: false/true. */
export const BOOLEAN_FIELDS: ReadonlySet<StatsField> = new Set<StatsField>(['anonymous_env', 'success']);

const FIELD_SET: ReadonlySet<string> = new Set(STATS_FIELDS);

function isStatsField(name: string): name is StatsField {
  return FIELD_SET.has(name);
}

/** Checks field names where they enter; the error lists the valid ones. */
export function parseFields(names: readonly string[]): StatsField[] {
  const out: StatsField[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (!isStatsField(name)) {
      throw new KaployError(
        'KAPLOY_OPTION',
        `unknown field '${raw}': valid fields are ${STATS_FIELDS.join(',')}`,
        { key: 'field' },
      );
    }
    out.push(name);
  }
  return out;
}
