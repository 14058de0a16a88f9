import type { Database } from 'better-sqlite3';

/** One right: `user` may act on `node` (or '*') for `partition` (or '*'). */
export interface RightRow {
  user: string;
  node: string;
  partition: string;
}

export class RightsRepo {
  constructor(private readonly db: Database) {}

  add(rows: readonly RightRow[]): number {
    const st = this.db.prepare(
      'INSERT OR IGNORE INTO rights (user, node, partition, created) VALUES (?, ?, ?, ?)',
    );
    let n = 0;
    const now = Date.now();
    for (const r of rows) n += st.run(r.user, r.node, r.partition, now).changes;
    return n;
  }

  /** Deletes the user's rights on `node`; `partition` undefined deletes every partition. */
  remove(user: string, node: string, partition?: string): number {
    if (node === '*' && partition === undefined)
      return this.db.prepare('DELETE FROM rights WHERE user = ?').run(user).changes;
    if (node === '*')
      return this.db.prepare('DELETE FROM rights WHERE user = ? AND partition = ?').run(user, partition)
        .changes;
    if (partition === undefined) {
      return this.db.prepare('DELETE FROM rights WHERE user = ? AND node = ?').run(user, node).changes;
    }
    return this.db
      .prepare('DELETE FROM rights WHERE user = ? AND node = ? AND partition = ?')
      .run(user, node, partition).changes;
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
