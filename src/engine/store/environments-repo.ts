import type { Database } from 'better-sqlite3';
import type { Environment, Visibility } from '../../formats/environment/types.js';

interface EnvRow {
  id: number;
  user: string;
  name: string;
  version: number;
  description: string;
  visibility: Visibility;
  destructive: number;
  md5: string;
  created: number;
}

/** A recorded environment: the normalised description plus its owner and row id. */
export interface StoredEnvironment extends Environment {
  id: number;
  user: string;
  created: number;
}

function fromRow(r: EnvRow): StoredEnvironment {
  const env = JSON.parse(r.description) as Environment;
  // The columns are authoritative for what can be changed in place (tags, checksums).
  return {
    ...env,
    id: r.id,
    user: r.user,
    name: r.name,
    version: r.version,
    visibility: r.visibility,
    destructive: r.destructive === 1,
    image: { ...env.image, md5: r.md5 },
    created: r.created,
  };
}

/** Environments table; visibility rules live in environments/visibility.ts, not here. */
export class EnvironmentsRepo {
  constructor(private readonly db: Database) {}

  insert(user: string, env: Environment): StoredEnvironment {
    const created = Date.now();
    const info = this.db
      .prepare(
        'INSERT INTO environments (user, name, version, description, visibility, destructive, md5, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        user,
        env.name,
        env.version,
        JSON.stringify({ ...env, user }),
        env.visibility,
        env.destructive ? 1 : 0,
        env.image.md5,
        created,
      );
    return this.byId(Number(info.lastInsertRowid)) as StoredEnvironment;
  }

  byId(id: number): StoredEnvironment | undefined {
    const r = this.db.prepare('SELECT * FROM environments WHERE id = ?').get(id) as EnvRow | undefined;
    return r && fromRow(r);
  }

  exists(user: string, name: string, version: number): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM environments WHERE user = ? AND name = ? AND version = ?')
        .get(user, name, version) !== undefined
    );
  }

  /** Every version of every environment matching the filters, ordered by name, user, version. */
  find(filter: {
    user?: string;
    name?: string;
    namePattern?: string;
    version?: number;
  }): StoredEnvironment[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.user !== undefined) {
      where.push('user = ?');
      args.push(filter.user);
    }
    if (filter.name !== undefined) {
      where.push('name = ?');
      args.push(filter.name);
    }
    if (filter.namePattern !== undefined) {
      // kaenv3 -l NAME uses '%' as the wildcard, like SQL LIKE; '_' is literal there.
      where.push("name LIKE ? ESCAPE '\\'");
      args.push(filter.namePattern.replace(/[\\_]/g, (c) => `\\${c}`));
    }
    if (filter.version !== undefined) {
      where.push('version = ?');
      args.push(filter.version);
    }
    const sql = `SELECT * FROM environments${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY name, user, version`;
    return (this.db.prepare(sql).all(...args) as EnvRow[]).map(fromRow);
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM environments WHERE id = ?').run(id);
  }

  /** Replaces the description of a recorded environment (tags, checksums); name/version/user stay. */
  update(id: number, env: Environment): StoredEnvironment {
    this.db
      .prepare(
        'UPDATE environments SET description = ?, visibility = ?, destructive = ?, md5 = ? WHERE id = ?',
      )
      .run(JSON.stringify(env), env.visibility, env.destructive ? 1 : 0, env.image.md5, id);
    return this.byId(id) as StoredEnvironment;
  }
}
