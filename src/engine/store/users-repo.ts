import type { Database } from 'better-sqlite3';

export interface UserRow {
  name: string;
  token_sha256: string;
  created: number;
}

/** Users known to the engine: name -> sha256 of their secret (never the secret itself). */
export class UsersRepo {
  constructor(private readonly db: Database) {}

  byTokenHash(hash: string): UserRow | undefined {
    return this.db.prepare('SELECT * FROM users WHERE token_sha256 = ?').get(hash) as UserRow | undefined;
  }

  get(name: string): UserRow | undefined {
    return this.db.prepare('SELECT * FROM users WHERE name = ?').get(name) as UserRow | undefined;
  }

  /** Creates the user or rotates its secret (the old one stops working at once). */
  setToken(name: string, hash: string): void {
    this.db
      .prepare(
        'INSERT INTO users (name, token_sha256, created) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET token_sha256 = excluded.token_sha256',
      )
      .run(name, hash, Date.now());
  }

  list(): UserRow[] {
    return this.db.prepare('SELECT * FROM users ORDER BY name').all() as UserRow[];
  }
}
