import type { Database } from 'better-sqlite3';

/**
 * Who uploaded which file content. A user may only reference an uploaded file they sent
 * themselves: knowing another user's image checksum must not be enough to deploy it.
 */
export class UploadsRepo {
  constructor(private readonly db: Database) {}

  record(md5: string, user: string, size: number): void {
    this.db
      .prepare('INSERT OR IGNORE INTO uploads (md5, user, size, created) VALUES (?, ?, ?, ?)')
      .run(md5, user, size, Date.now());
  }

  has(md5: string, user: string): boolean {
    return this.db.prepare('SELECT 1 FROM uploads WHERE md5 = ? AND user = ?').get(md5, user) !== undefined;
  }
}
