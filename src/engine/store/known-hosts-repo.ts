import type { Database } from 'better-sqlite3';

/** Pinned SSH host keys per node (the SSH transport refuses a key that differs). */
export class KnownHostsRepo {
  constructor(private readonly db: Database) {}

  get(node: string): string | undefined {
    return (
      this.db.prepare('SELECT key FROM known_hosts WHERE node = ?').get(node) as { key: string } | undefined
    )?.key;
  }

  set(node: string, key: string): void {
    this.db
      .prepare(
        'INSERT INTO known_hosts (node, key) VALUES (?, ?) ON CONFLICT(node) DO UPDATE SET key = excluded.key',
      )
      .run(node, key);
  }

  /** Several keys in one transaction (one commit, one fsync). */
  setMany(entries: readonly (readonly [node: string, key: string])[]): void {
    const stmt = this.db.prepare(
      'INSERT INTO known_hosts (node, key) VALUES (?, ?) ON CONFLICT(node) DO UPDATE SET key = excluded.key',
    );
    this.db.transaction(() => {
      for (const [node, key] of entries) stmt.run(node, key);
    })();
  }

  all(): Map<string, string> {
    const rows = this.db.prepare('SELECT node, key FROM known_hosts').all() as {
      node: string;
      key: string;
    }[];
    return new Map(rows.map((r) => [r.node, r.key]));
  }
}
