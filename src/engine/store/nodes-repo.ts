import type { Database } from 'better-sqlite3';

/** A node's last known state, as kanodes3 shows it (reference §5 for the state names). */
export interface NodeRow {
  name: string;
  state: string;
  env: string; // name:version of the last deployed environment
  env_user: string;
  destructive: number;
  user: string;
  wid: string;
  updated: number;
}

export type NodeUpdate = Partial<Omit<NodeRow, 'name' | 'updated'>>;

const COLUMNS = ['state', 'env', 'env_user', 'destructive', 'user', 'wid'] as const;

export class NodesRepo {
  constructor(private readonly db: Database) {}

  /** Inserts the site's nodes that have no row yet; existing states are kept across restarts. */
  ensure(names: readonly string[], initialState: string): void {
    const st = this.db.prepare('INSERT OR IGNORE INTO nodes (name, state, updated) VALUES (?, ?, ?)');
    const now = Date.now();
    this.db.transaction(() => {
      for (const n of names) st.run(n, initialState, now);
    })();
  }

  get(name: string): NodeRow | undefined {
    return this.db.prepare('SELECT * FROM nodes WHERE name = ?').get(name) as NodeRow | undefined;
  }

  list(): NodeRow[] {
    return this.db.prepare('SELECT * FROM nodes ORDER BY name').all() as NodeRow[];
  }

  update(name: string, patch: NodeUpdate): void {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const c of COLUMNS) {
      if (patch[c] === undefined) continue;
      sets.push(`${c} = ?`);
      values.push(patch[c]);
    }
    sets.push('updated = ?');
    values.push(Date.now(), name);
    this.db.prepare(`UPDATE nodes SET ${sets.join(', ')} WHERE name = ?`).run(...values);
  }
}
