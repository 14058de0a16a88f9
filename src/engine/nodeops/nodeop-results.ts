import type { Database } from 'better-sqlite3';
import { OperationResults } from '../operations/operation-results.js';
import type { NodeOpOutcome } from './node-op-outcome.js';

/**
 * Final outcomes of finished reboot/power operations, in the engine's operation_results table
 * (created by OperationResults; R-/P- ids never collide with deployments' D- ids), so
 * `GET /reboot/:wid` still answers after the live record was pruned or the engine restarted.
 */
export class NodeOpResults {
  constructor(private readonly db: Database) {
    new OperationResults(db); // creates the table when this engine never ran a deployment
  }

  save(wid: string, outcomes: readonly NodeOpOutcome[], error?: { code: string; message: string }): void {
    this.db
      .prepare('INSERT OR REPLACE INTO operation_results (wid, outcomes, error) VALUES (?, ?, ?)')
      .run(wid, JSON.stringify(outcomes), error ? JSON.stringify(error) : null);
  }

  get(wid: string): { outcomes: NodeOpOutcome[]; error?: { code: string; message: string } } | undefined {
    const row = this.db.prepare('SELECT outcomes, error FROM operation_results WHERE wid = ?').get(wid) as
      | { outcomes: string; error: string | null }
      | undefined;
    if (!row) return undefined;
    return {
      outcomes: JSON.parse(row.outcomes) as NodeOpOutcome[],
      ...(row.error ? { error: JSON.parse(row.error) as { code: string; message: string } } : {}),
    };
  }
}
