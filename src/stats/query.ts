import { KaployError } from '../common/errors.js';
import { expandRange } from '../formats/node-names.js';
import { parseStatsDate } from './dates.js';
import { DEFAULT_FIELDS, parseFields, RETRY_DEFAULT_FIELDS, type StatsField } from './fields.js';

const STATS_KINDS = ['list', 'last', 'retries', 'failure-rate'] as const;
export type StatsKind = (typeof STATS_KINDS)[number];
export const STATS_OPERATIONS = ['deploy', 'reboot', 'power'] as const;
export type StatsOperation = (typeof STATS_OPERATIONS)[number];

/**
 * The filters as they travel: the engine's `/stats` query string, and what kastat3 builds from
 * its flags. Every value is text until `parseStatsQuery` checks it, on both sides.
 */
export interface RawStatsQuery {
  kind?: string;
  fields?: string;
  node?: string | string[];
  from?: string;
  to?: string;
  wid?: string;
  operation?: string;
  min_retries?: string;
  step?: string | string[];
  min_rate?: string;
  limit?: string;
  sort?: string;
  header?: string;
}

export interface SortKey {
  field: StatsField;
  desc: boolean;
}

/** A checked query: the only input the SQL builder accepts. */
export interface StatsQuery {
  kind: StatsKind;
  fields: StatsField[];
  nodes: string[];
  from?: number;
  to?: number;
  wid?: string;
  operation?: StatsOperation;
  minRetries?: number;
  steps: Array<1 | 2 | 3>;
  minRate?: number;
  limit?: number;
  sort: SortKey[];
  header: boolean;
}

/** Hosts named in one query; beyond this a node file is the wrong tool for a statistics filter. */
const MAX_QUERY_NODES = 100_000;

const WID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

const optionError = (key: string, message: string) => new KaployError('KAPLOY_OPTION', message, { key });
const conflict = (message: string) => new KaployError('KAPLOY_CONFLICTING_OPTIONS', message);

function list(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function nonNegativeInt(v: string, key: string, what: string): number {
  if (!/^\d{1,9}$/.test(v.trim()))
    throw optionError(key, `invalid ${what} '${v}': expected a whole number >= 0`);
  return Number(v);
}

export function parseStatsQuery(raw: RawStatsQuery): StatsQuery {
  const kind = (raw.kind ?? 'list') as StatsKind;
  if (!STATS_KINDS.includes(kind))
    throw optionError('kind', `invalid kind '${raw.kind}': expected ${STATS_KINDS.join(', ')}`);

  const q: StatsQuery = { kind, fields: [], nodes: [], steps: [], sort: [], header: false };

  const nodes = new Set<string>();
  for (const spec of list(raw.node)) {
    // What is left of the budget bounds the expansion itself, before any name is made.
    for (const n of expandRange(spec.trim(), MAX_QUERY_NODES - nodes.size)) nodes.add(n);
    if (nodes.size > MAX_QUERY_NODES)
      throw optionError('node', `too many nodes in the query (more than ${MAX_QUERY_NODES})`);
  }
  q.nodes = [...nodes];

  if (raw.from !== undefined) q.from = parseStatsDate(raw.from, 'start date (-x)');
  if (raw.to !== undefined) q.to = parseStatsDate(raw.to, 'end date (-y)');
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
    throw conflict(`the start date (-x ${raw.from}) is after the end date (-y ${raw.to})`);
  }

  if (raw.wid !== undefined) {
    if (!WID_RE.test(raw.wid))
      throw optionError(
        'wid',
        `invalid workflow id '${raw.wid}': expected letters, digits, '-', '_', '.' or ':'`,
      );
    q.wid = raw.wid;
  }
  if (raw.operation !== undefined) {
    if (!STATS_OPERATIONS.includes(raw.operation as StatsOperation)) {
      throw optionError(
        'operation',
        `invalid operation '${raw.operation}': expected ${STATS_OPERATIONS.join(', ')}`,
      );
    }
    q.operation = raw.operation as StatsOperation;
  }

  if (raw.min_retries !== undefined) {
    if (kind !== 'retries')
      throw conflict('a minimum number of retries (-a) only applies to the retries listing');
    q.minRetries = nonNegativeInt(raw.min_retries, 'min_retries', 'minimum number of retries (-a)');
  } else if (kind === 'retries') {
    throw new KaployError(
      'KAPLOY_MISSING_OPTION',
      'the retries listing needs a minimum number of retries (-a NB)',
      { key: 'min_retries' },
    );
  }
  const steps = new Set<1 | 2 | 3>();
  for (const s of list(raw.step)) {
    if (!/^[123]$/.test(s.trim())) throw optionError('step', `invalid step '${s}': expected 1, 2 or 3`);
    steps.add(Number(s) as 1 | 2 | 3);
  }
  if (steps.size > 0 && kind !== 'retries')
    throw conflict('-s/--step applies the retry filter: use it with -a NB');
  q.steps = [...steps].sort();

  if (raw.min_rate !== undefined) {
    if (kind !== 'failure-rate')
      throw conflict('a minimum failure rate (-c) only applies to the failure-rate listing');
    const t = raw.min_rate.trim();
    const rate = Number(t);
    if (!/^\d+(\.\d+)?$/.test(t) || !(rate >= 0 && rate <= 100)) {
      throw optionError(
        'min_rate',
        `invalid minimum failure rate '${raw.min_rate}': expected a number from 0 to 100`,
      );
    }
    q.minRate = rate;
  }

  const fieldNames = raw.fields === undefined ? [] : raw.fields.split(',').filter((f) => f.trim() !== '');
  if (raw.fields !== undefined && fieldNames.length === 0) throw optionError('fields', 'empty field list');
  if (raw.limit !== undefined) {
    if (!/^[1-9]\d{0,9}$/.test(raw.limit.trim()))
      throw optionError('limit', `invalid limit '${raw.limit}': expected a whole number >= 1`);
    q.limit = Number(raw.limit);
  }
  q.header = parseBool(raw.header, 'header');

  if (kind === 'failure-rate') {
    // Rates are one line per node (`node: 12.34%`): there are no fields to choose or sort.
    if (fieldNames.length > 0) throw conflict('fields (-f/-F) cannot be chosen for failure rates (-b/-c)');
    if (raw.sort !== undefined)
      throw conflict('--sort does not apply to failure rates (-b/-c), which are listed by node');
    if (raw.limit !== undefined) throw conflict('--limit does not apply to failure rates (-b/-c)');
    if (q.header) throw conflict('--header does not apply to failure rates (-b/-c)');
    return q;
  }
  q.fields =
    fieldNames.length > 0
      ? parseFields(fieldNames)
      : [...(kind === 'retries' ? RETRY_DEFAULT_FIELDS : DEFAULT_FIELDS)];
  if (raw.sort !== undefined) q.sort = parseSort(raw.sort);
  return q;
}

function parseBool(v: string | undefined, key: string): boolean {
  if (v === undefined || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1' || v === '') return true;
  throw optionError(key, `invalid ${key} '${v}': expected true or false`);
}

/** `--sort start,hostname:desc`: fields, each optionally `:asc` or `:desc`. */
function parseSort(text: string): SortKey[] {
  const keys: SortKey[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*([a-z0-9_]+)(?::(asc|desc))?\s*$/.exec(part);
    if (!m)
      throw optionError('sort', `invalid sort key '${part}': expected FIELD or FIELD:asc or FIELD:desc`);
    const [field] = parseFields([m[1] ?? '']);
    keys.push({ field: field as StatsField, desc: m[2] === 'desc' });
  }
  return keys;
}
