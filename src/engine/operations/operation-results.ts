import type { Database } from 'better-sqlite3';
import type { BaseOutcome } from './operation-kind.js';

export interface StoredResult {
  outcomes: BaseOutcome[];
  error?: { code: string; message: string };
}

/**
 * Final per-node outcomes of finished operations of every kind (D-, R-, P- ids never collide), kept
 * so `GET /<kind>/:wid` answers after the live record was pruned or the engine restarted, and so a
 * deployment stopped at its breakpoint can be resumed later.
 */
export class OperationResults {
  constructor(private readonly db: Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS operation_results (
      wid TEXT PRIMARY KEY,
      outcomes TEXT NOT NULL,
      error TEXT
    )`);
  }

  save(wid: string, outcomes: readonly BaseOutcome[], error?: { code: string; message: string }): void {
    this.db
      .prepare('INSERT OR REPLACE INTO operation_results (wid, outcomes, error) VALUES (?, ?, ?)')
      .run(wid, JSON.stringify(outcomes), error ? JSON.stringify(error) : null);
  }

  get(wid: string): StoredResult | undefined {
    const row = this.db.prepare('SELECT outcomes, error FROM operation_results WHERE wid = ?').get(wid) as
      | { outcomes: string; error: string | null }
      | undefined;
    if (!row) return undefined;
    return {
      outcomes: JSON.parse(row.outcomes) as BaseOutcome[],
      ...(row.error ? { error: JSON.parse(row.error) as { code: string; message: string } } : {}),
    };
  }
}
