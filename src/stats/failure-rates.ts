import type Database from 'better-sqlite3';
import { KaployError } from '../common/errors.js';
import type { StatsQuery } from './query.js';
import { buildRatesSql } from './sql.js';

export interface NodeFailureRate {
  node: string;
  /** Percentage of the node's operations that failed, 0..100. */
  rate: number;
  operations: number;
  failures: number;
}

/**
 * Failure rate per node over the rows the filters keep (Kadeploy 3.1 -b/-c):
 * 100 - 100 * successes / operations, listed by node name; with a minimum rate (-c), only the
 * nodes at or above it.
 */
export function failureRates(db: Database.Database, query: StatsQuery): NodeFailureRate[] {
  const { sql, params } = buildRatesSql(query);
  let rows: Array<{ hostname: string; total: number; ok: number }>;
  try {
    rows = db.prepare(sql).all(...params) as typeof rows;
  } catch (e) {
    throw new KaployError('KAPLOY_DATABASE', `cannot read statistics: ${(e as Error).message}`, { cause: e });
  }
  const out: NodeFailureRate[] = [];
  for (const r of rows) {
    const rate = 100 - (100 * r.ok) / r.total;
    if (query.minRate !== undefined && rate < query.minRate) continue;
    out.push({ node: r.hostname, rate, operations: r.total, failures: r.total - r.ok });
  }
  return out;
}

/** `node: 12.34%`, the line Kadeploy 3.1 prints. */
export function formatFailureRate(r: Pick<NodeFailureRate, 'node' | 'rate'>): string {
  return `${r.node}: ${r.rate.toFixed(2)}%`;
}
