import type { Database } from 'better-sqlite3';
import type { OperationOutcome } from '../../api/operation-status.js';
import type { NodeOutcome } from '../workflow/types.js';

/**
 * Final per-node outcomes of finished operations, kept so `GET /deployment/:wid` answers after an
 * engine restart, and so a deployment stopped at its breakpoint can be resumed later.
 */
export class OperationResults {
  constructor(private readonly db: Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS operation_results (
      wid TEXT PRIMARY KEY,
      outcomes TEXT NOT NULL,
      error TEXT
    )`);
  }

  save(wid: string, outcomes: readonly NodeOutcome[], error?: { code: string; message: string }): void {
    this.db
      .prepare('INSERT OR REPLACE INTO operation_results (wid, outcomes, error) VALUES (?, ?, ?)')
      .run(wid, JSON.stringify(outcomes), error ? JSON.stringify(error) : null);
  }

  get(wid: string): { outcomes: NodeOutcome[]; error?: { code: string; message: string } } | undefined {
    const row = this.db.prepare('SELECT outcomes, error FROM operation_results WHERE wid = ?').get(wid) as
      | { outcomes: string; error: string | null }
      | undefined;
    if (!row) return undefined;
    return {
      outcomes: JSON.parse(row.outcomes) as NodeOutcome[],
      ...(row.error ? { error: JSON.parse(row.error) } : {}),
    };
  }
}

export function toApiOutcome(o: NodeOutcome): OperationOutcome {
  return {
    node: o.node,
    status: o.status,
    ...(o.impl ? { impl: o.impl } : {}),
    ...(o.micro ? { micro: o.micro } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
  };
}
