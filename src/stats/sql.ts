import { BOOLEAN_FIELDS, type StatsField } from './fields.js';
import type { StatsQuery } from './query.js';
import { plainTextSql, STATS_INTEGER_FIELDS } from './schema.js';

/**
 * Turns a checked query into parameterised SQL. Column names come only from the field whitelist
 * (fields.ts); every value the user typed travels as a bound parameter.
 */
export interface BuiltSql {
  sql: string;
  params: unknown[];
}

/**
 * A rows query returns one column: the whole CSV record of the row, LF included, built by SQLite.
 * Values crossing from SQLite into JavaScript are most of an export's cost (docs/kastat3.md), so
 * the common case — a number, a boolean, a text needing no quotes and no formula neutralisation —
 * is encoded in SQL; the rare text that needs either (or a value that is not text) goes through
 * `CSV_FIELD_FUNCTION`, the JavaScript encoder itself, so the output stays that encoder's byte for
 * byte. The function must be registered on the connection that runs the statement
 * (`registerCsvField`, csv-encode.ts).
 */
/** Name of the SQL function that encodes one value as the JavaScript encoder does. */
export const CSV_FIELD_FUNCTION = 'kaploy_csv_field';

const INTEGER_FIELDS: ReadonlySet<StatsField> = new Set<StatsField>(STATS_INTEGER_FIELDS);

const whereOf = (c: readonly string[]) => (c.length > 0 ? ` WHERE ${c.join(' AND ')}` : '');

function where(q: StatsQuery, params: unknown[]): string {
  return whereOf(conditions(q, params));
}

function conditions(q: StatsQuery, params: unknown[]): string[] {
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
  return c;
}

/** SQL text of a field that cannot need quoting, or undefined for a text field. */
function safeExpr(f: StatsField, plainRow: boolean): string | undefined {
  if (BOOLEAN_FIELDS.has(f)) return `(CASE ${f} WHEN 0 THEN 'false' ELSE 'true' END)`;
  // CAST: the column has INTEGER affinity, not STRICT; the cast guarantees digits only.
  // A plain row holds integers there (schema.ts); elsewhere CAST guarantees digits only.
  if (INTEGER_FIELDS.has(f)) return plainRow ? f : `coalesce(CAST(${f} AS INTEGER), '')`;
  return undefined;
}

/**
 * A text column as CSV when its row is not known plain: as it is when it needs no quoting and no
 * neutralisation (the test of schema.ts), else the JavaScript encoder. Columns are NOT NULL.
 */
function checkedText(f: string): string {
  return `(CASE WHEN ${plainTextSql(f)} THEN ${f} ELSE ${CSV_FIELD_FUNCTION}(${f}) END)`;
}

/**
 * The record: each field's SQL joined with commas, LF-terminated (Kadeploy's line ending).
 * concat_ws builds it in one pass, where a chain of `||` copies the growing record once per field
 * (a third of the SQL's cost over a million rows, docs/kastat3.md). concat_ws skips NULL
 * arguments, so every part is non-NULL: NOT NULL columns, a CASE, coalesce or the encoder.
 */
function record(
  fields: readonly StatsField[],
  params: unknown[],
  siteCsv: string,
  plainRow: boolean,
): string {
  const parts = fields.map((f) => {
    if (f === 'site') {
      params.push(siteCsv);
      return '?';
    }
    return safeExpr(f, plainRow) ?? (plainRow ? f : checkedText(f));
  });
  return `concat_ws(',', ${parts.join(', ')}) || char(10)`;
}

/**
 * The record of a row: joined as it is when the row is marked plain at write time (`csv_plain`,
 * schema.ts), value by value otherwise. Without the column (a store not yet migrated) every row
 * takes the checked path.
 */
function selectRecord(
  fields: readonly StatsField[],
  params: unknown[],
  siteCsv: string,
  plainColumn: boolean,
): string {
  if (!plainColumn) return record(fields, params, siteCsv, false);
  const plain = record(fields, params, siteCsv, true);
  const checked = record(fields, params, siteCsv, false);
  return `CASE WHEN csv_plain THEN ${plain} ELSE ${checked} END`;
}

function orderBy(q: StatsQuery): string {
  // Kadeploy lists by start; `sed -n '$p'` then takes the latest row. id breaks ties stably.
  const keys = q.sort.filter((k) => k.field !== 'site').map((k) => `${k.field}${k.desc ? ' DESC' : ''}`);
  if (keys.length === 0) keys.push('start');
  keys.push('id');
  return ` ORDER BY ${keys.join(', ')}`;
}

/**
 * The rows of a list / last / retries query as CSV records, fields in `q.fields` order. `siteCsv`
 * is the `site` field already encoded (csvField), bound as a parameter.
 */
export function buildRowsSql(q: StatsQuery, siteCsv = '', plainColumn = true): BuiltSql {
  const params: unknown[] = [];
  const cols = selectRecord(q.fields, params, siteCsv, plainColumn);
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
    return { sql, params };
  }
  params.push(...whereParams);
  let sql = `SELECT ${cols} FROM ${from}${w}${orderBy(q)}`;
  if (q.limit !== undefined) {
    sql += ' LIMIT ?';
    params.push(q.limit);
  }
  return { sql, params };
}

/**
 * A list export in the default order (start, id) can be read a page at a time: SQLite joins a
 * page of records into one value (group_concat), so a million rows cross into JavaScript as a
 * few thousand strings instead of a million (docs/decisions/0031-kastat-paged-export.md).
 * Other queries (node or wid filters, which SQLite serves from other indexes; `-l`; other
 * sorts) keep one record per row.
 */
export function isPageable(q: StatsQuery): boolean {
  const keys = q.sort.filter((k) => k.field !== 'site');
  const defaultOrder =
    keys.length === 0 || (keys.length === 1 && keys[0]?.field === 'start' && !keys[0].desc);
  return q.kind !== 'last' && q.nodes.length === 0 && q.wid === undefined && defaultOrder;
}

/**
 * The statements of a paged export. The cursor is the (start, id) key of the last row written;
 * `bound` finds the key of the row `?` rows past it (the end of the next page), `page` joins the
 * records after the cursor up to that key. Both walk the stats_start index (INDEXED BY), so the
 * page joins its records in (start, id) order and each page costs its own rows only.
 */
export interface PagedRowsSql {
  /** Parameters: the filters', then the cursor's two when `after`, then the offset. */
  bound(after: boolean): string;
  /** Parameters: `recordParams`, the filters', the cursor's two when `after`, the bound's two when `upTo`. */
  page(after: boolean, upTo: boolean): string;
  recordParams: unknown[];
  whereParams: unknown[];
}

export function buildPagedRowsSql(q: StatsQuery, siteCsv = '', plainColumn = true): PagedRowsSql {
  const recordParams: unknown[] = [];
  const rec = selectRecord(q.fields, recordParams, siteCsv, plainColumn);
  const whereParams: unknown[] = [];
  const filters = conditions(q, whereParams);
  const cond = (after: boolean, upTo: boolean) =>
    whereOf([
      ...filters,
      ...(after ? ['(start, id) > (?, ?)'] : []),
      ...(upTo ? ['(start, id) <= (?, ?)'] : []),
    ]);
  return {
    bound: (after) =>
      `SELECT start, id FROM stats INDEXED BY stats_start${cond(after, false)} ORDER BY start, id LIMIT 1 OFFSET ?`,
    page: (after, upTo) =>
      `SELECT group_concat(${rec}, '') FROM stats INDEXED BY stats_start${cond(after, upTo)}`,
    recordParams,
    whereParams,
  };
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
