import { BOOLEAN_FIELDS, type StatsField } from './fields.js';
import type { StatsQuery } from './query.js';

/**
 * Turns a checked query into parameterised SQL. Column names come only from the field whitelist
 * (fields.ts); every value the user typed travels as a bound parameter.
 */
export interface BuiltSql {
  sql: string;
  params: unknown[];
}

/**
 * A rows query returns one column per output *segment*: either one text field, which the CSV
 * encoder quotes and neutralises, or a run of consecutive integer/boolean fields that SQLite has
 * already joined with commas (`preEncoded`). Numbers and true/false never need quoting, and
 * handing SQLite the joining halves the values crossing into JavaScript, which is most of the
 * export's cost (docs/kastat3.md).
 */
export interface BuiltRowsSql extends BuiltSql {
  preEncoded: boolean[];
}

const INTEGER_FIELDS: ReadonlySet<StatsField> = new Set<StatsField>([
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
]);

function where(q: StatsQuery, params: unknown[]): string {
  const c: string[] = [];
  if (q.nodes.length > 0) {
    // One JSON parameter whatever the node count: SQLite caps bound parameters at 32766.
    c.push('hostname IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(q.nodes));
  }
  if (q.from !== undefined) {
    c.push('start >= ?');
    params.push(q.from);
  }
  if (q.to !== undefined) {
    c.push('start <= ?');
    params.push(q.to);
  }
  if (q.wid !== undefined) {
    c.push('wid = ?');
    params.push(q.wid);
  }
  if (q.operation !== undefined) {
    c.push('operation = ?');
    params.push(q.operation);
  }
  if (q.kind === 'retries' && q.minRetries !== undefined) {
    // Kadeploy 3.1: with -s, every given step must reach the minimum; without, any step does.
    const steps = q.steps.length > 0 ? q.steps : [1, 2, 3];
    const parts = steps.map((s) => `retry_step${s} >= ?`);
    for (const _ of steps) params.push(q.minRetries);
    c.push(`(${parts.join(q.steps.length > 0 ? ' AND ' : ' OR ')})`);
  }
  return c.length > 0 ? ` WHERE ${c.join(' AND ')}` : '';
}

/** SQL text of a field that cannot need quoting, or undefined for a text field. */
function safeExpr(f: StatsField): string | undefined {
  if (BOOLEAN_FIELDS.has(f)) return `(CASE ${f} WHEN 0 THEN 'false' ELSE 'true' END)`;
  // CAST: the column has INTEGER affinity, not STRICT; the cast guarantees digits only.
  if (INTEGER_FIELDS.has(f)) return `CAST(${f} AS INTEGER)`;
  return undefined;
}

function selectSegments(
  fields: readonly StatsField[],
  params: unknown[],
  site: string,
): { cols: string; preEncoded: boolean[] } {
  const cols: string[] = [];
  const preEncoded: boolean[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length === 0) return;
    cols.push(run.length === 1 ? (run[0] as string) : run.join(" || ',' || "));
    preEncoded.push(run.length > 1);
    run = [];
  };
  for (const f of fields) {
    const safe = safeExpr(f);
    if (safe !== undefined) {
      run.push(safe);
      continue;
    }
    flush();
    if (f === 'site') {
      params.push(site);
      cols.push('?');
    } else {
      cols.push(f);
    }
    preEncoded.push(false);
  }
  flush();
  return { cols: cols.join(', '), preEncoded };
}

function orderBy(q: StatsQuery): string {
  // Kadeploy lists by start; `sed -n '$p'` then takes the latest row. id breaks ties stably.
  const keys = q.sort.filter((k) => k.field !== 'site').map((k) => `${k.field}${k.desc ? ' DESC' : ''}`);
  if (keys.length === 0) keys.push('start');
  keys.push('id');
  return ` ORDER BY ${keys.join(', ')}`;
}

/** The rows of a list / last / retries query, columns in `q.fields` order, as CSV-ready values. */
export function buildRowsSql(q: StatsQuery, site = ''): BuiltRowsSql {
  const params: unknown[] = [];
  const { cols, preEncoded } = selectSegments(q.fields, params, site);
  let from = 'stats';
  const whereParams: unknown[] = [];
  const w = where(q, whereParams);
  if (q.kind === 'last') {
    // The most recent row of each selected node (Kadeploy 3.1 -l), among the rows the filters keep.
    from = `(SELECT *, ROW_NUMBER() OVER (PARTITION BY hostname ORDER BY start DESC, id DESC) AS rn FROM stats${w}) AS s`;
    params.push(...whereParams);
    let sql = `SELECT ${cols} FROM ${from} WHERE rn = 1${orderBy(q)}`;
    if (q.limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(q.limit);
    }
    return { sql, params, preEncoded };
  }
  params.push(...whereParams);
  let sql = `SELECT ${cols} FROM ${from}${w}${orderBy(q)}`;
  if (q.limit !== undefined) {
    sql += ' LIMIT ?';
    params.push(q.limit);
  }
  return { sql, params, preEncoded };
}

/** Per-node totals for failure rates; aggregated by SQLite so memory grows with nodes, not rows. */
export function buildRatesSql(q: StatsQuery): BuiltSql {
  const params: unknown[] = [];
  const w = where(q, params);
  return {
    sql: `SELECT hostname, COUNT(*) AS total, SUM(success <> 0) AS ok FROM stats${w} GROUP BY hostname ORDER BY hostname`,
    params,
  };
}
