import type { Database } from 'better-sqlite3';
import type { RightRow } from '../../api/rights.js';

/** A right to add; `job`: the OAR job it was granted for (the prologue's grants). */
export interface NewRight extends RightRow {
  job?: number;
}

export class RightsRepo {
  constructor(private readonly db: Database) {}

  /**
   * Adds rights; returns how many were new. Granting an existing right again for a job records
   * the newer job (a job's epilogue must not revoke what a later job of the same user was given).
   */
  add(rows: readonly NewRight[]): number {
    const st = this.db.prepare(
      'INSERT OR IGNORE INTO rights (user, node, partition, created, job) VALUES (?, ?, ?, ?, ?)',
    );
    const newer = this.db.prepare(
      'UPDATE rights SET job = ? WHERE user = ? AND node = ? AND partition = ? AND (job IS NULL OR job < ?)',
    );
    let n = 0;
    const now = Date.now();
    for (const r of rows) {
      const added = st.run(r.user, r.node, r.partition, now, r.job ?? null).changes;
      if (added === 0 && r.job !== undefined) newer.run(r.job, r.user, r.node, r.partition, r.job);
      n += added;
    }
    return n;
  }

  /**
   * Deletes the user's rights on `node`; `partition` undefined deletes every partition.
   * `upToJob`: only rights granted by hand or for that OAR job or an older one (a late restore
   * request of job N leaves alone what job N+1 was given).
   */
  remove(user: string, node: string, partition?: string, upToJob?: number): number {
    const where = ['user = ?'];
    const args: unknown[] = [user];
    // node '*': the user's rights on every node.
    if (node !== '*') {
      where.push('node = ?');
      args.push(node);
    }
    if (partition !== undefined) {
      where.push('partition = ?');
      args.push(partition);
    }
    if (upToJob !== undefined) {
      where.push('(job IS NULL OR job <= ?)');
      args.push(upToJob);
    }
    return this.db.prepare(`DELETE FROM rights WHERE ${where.join(' AND ')}`).run(...args).changes;
  }

  /** The newest OAR job holding a right on `node` (any user), if any. */
  newestJobOn(node: string): number | undefined {
    const r = this.db.prepare('SELECT MAX(job) AS job FROM rights WHERE node = ?').get(node) as {
      job: number | null;
    };
    return r.job ?? undefined;
  }

  /** Rights that apply to (user, node): exact node rows and '*' rows. */
  forUserNode(user: string, node: string): RightRow[] {
    return this.db
      .prepare("SELECT user, node, partition FROM rights WHERE user = ? AND (node = ? OR node = '*')")
      .all(user, node) as RightRow[];
  }

  list(filter: { user?: string; nodes?: readonly string[] } = {}): RightRow[] {
    const rows = (
      filter.user === undefined
        ? this.db.prepare('SELECT user, node, partition FROM rights ORDER BY user, node, partition').all()
        : this.db
            .prepare('SELECT user, node, partition FROM rights WHERE user = ? ORDER BY node, partition')
            .all(filter.user)
    ) as RightRow[];
    if (!filter.nodes || filter.nodes.includes('*')) return rows;
    const want = new Set(filter.nodes);
    return rows.filter((r) => r.node === '*' || want.has(r.node));
  }
}
