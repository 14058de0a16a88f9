import type { Database } from 'better-sqlite3';

export interface WorkflowRow {
  wid: string;
  kind: string;
  user: string;
  status: string;
  request: string; // JSON
  created: number;
  finished: number | null;
}

/** Operations (deploy, reboot, power, console) as recorded when accepted and when finished. */
export class WorkflowsRepo {
  constructor(private readonly db: Database) {}

  insert(w: { wid: string; kind: string; user: string; status: string; request: unknown }): void {
    this.db
      .prepare('INSERT INTO workflows (wid, kind, user, status, request, created) VALUES (?, ?, ?, ?, ?, ?)')
      .run(w.wid, w.kind, w.user, w.status, JSON.stringify(w.request), Date.now());
  }

  setStatus(wid: string, status: string, finished: boolean): void {
    this.db
      .prepare('UPDATE workflows SET status = ?, finished = ? WHERE wid = ?')
      .run(status, finished ? Date.now() : null, wid);
  }

  get(wid: string): WorkflowRow | undefined {
    return this.db.prepare('SELECT * FROM workflows WHERE wid = ?').get(wid) as WorkflowRow | undefined;
  }

  list(filter: { user?: string; kind?: string; unfinished?: boolean } = {}): WorkflowRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.user !== undefined) {
      where.push('user = ?');
      args.push(filter.user);
    }
    if (filter.kind !== undefined) {
      where.push('kind = ?');
      args.push(filter.kind);
    }
    if (filter.unfinished) where.push('finished IS NULL');
    const sql = `SELECT * FROM workflows${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created`;
    return this.db.prepare(sql).all(...args) as WorkflowRow[];
  }

  /** The newest `limit` operations of these kinds (of `user` when given), newest first. */
  recent(kinds: readonly string[], limit: number, user?: string): WorkflowRow[] {
    const marks = kinds.map(() => '?').join(', ');
    const byUser = user === undefined ? '' : ' AND user = ?';
    return this.db
      .prepare(
        `SELECT * FROM workflows WHERE kind IN (${marks})${byUser} ORDER BY created DESC, rowid DESC LIMIT ?`,
      )
      .all(...kinds, ...(user === undefined ? [] : [user]), limit) as WorkflowRow[];
  }
}
