import { chmodSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KaployError } from '../../common/errors.js';

/**
 * The user's grid reservations, durably (a small SQLite file): a grid job is recorded before any
 * site is asked and each site job as soon as its OAR answers, so a submission killed halfway
 * leaves a record that oargriddel can finish, never a job nobody knows about.
 */
export type GridState = 'submitting' | 'reserved' | 'failed' | 'deleted';
/** `unknown`: oarsub did not answer in time, a job may exist there (see the message). */
export type SiteJobState = 'submitting' | 'reserved' | 'refused' | 'unknown' | 'deleted' | 'delete-failed';

export interface GridRecord {
  id: number;
  submittedAt: number;
  startAt: number;
  walltimeS: number;
  types: string[];
  description: string;
  keyFile: string;
  state: GridState;
}

export interface SiteJobRecord {
  site: string;
  aliases: string[];
  batchId?: number;
  state: SiteJobState;
  message: string;
}

/** `$XDG_DATA_HOME/kaploy` when set, else `~/.kaploy` (beside client.yaml). */
function gridDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  return xdg && path.isAbsolute(xdg) ? path.join(xdg, 'kaploy') : path.join(os.homedir(), '.kaploy');
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS grids (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  submitted_at INTEGER NOT NULL,
  start_at INTEGER NOT NULL,
  walltime_s INTEGER NOT NULL,
  types TEXT NOT NULL,
  description TEXT NOT NULL,
  key_file TEXT NOT NULL,
  state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS site_jobs (
  grid_id INTEGER NOT NULL REFERENCES grids(id),
  position INTEGER NOT NULL,
  site TEXT NOT NULL,
  aliases TEXT NOT NULL,
  batch_id INTEGER,
  state TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (grid_id, site)
);`;

interface GridRow {
  id: number;
  submitted_at: number;
  start_at: number;
  walltime_s: number;
  types: string;
  description: string;
  key_file: string;
  state: GridState;
}
interface SiteRow {
  site: string;
  aliases: string;
  batch_id: number | null;
  state: SiteJobState;
  message: string;
}

export class GridStore {
  private constructor(
    private readonly db: Database.Database,
    readonly dir: string,
  ) {}

  /** Opens (creating) `DIR/oargrid.sqlite`, mode 600 in a directory of the user's only. */
  static open(dir = gridDataDir()): GridStore {
    const file = path.join(dir, 'oargrid.sqlite');
    let db: Database.Database;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      db = new Database(file);
      chmodSync(file, 0o600);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      // Two oargridsub of one user at once wait for each other's short writes.
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
    } catch (e) {
      throw new KaployError(
        'KAPLOY_DATABASE',
        `cannot open the grid reservations file ${file}: ${(e as Error).message}`,
        {
          file,
          cause: e,
        },
      );
    }
    return new GridStore(db, dir);
  }

  close(): void {
    this.db.close();
  }

  createGrid(
    g: Omit<GridRecord, 'id' | 'state' | 'keyFile'>,
    sites: { site: string; aliases: string[] }[],
  ): number {
    return this.db.transaction(() => {
      const r = this.db
        .prepare(
          `INSERT INTO grids (submitted_at, start_at, walltime_s, types, description, key_file, state)
           VALUES (?, ?, ?, ?, ?, '', 'submitting')`,
        )
        .run(g.submittedAt, g.startAt, g.walltimeS, JSON.stringify(g.types), g.description);
      const id = Number(r.lastInsertRowid);
      const ins = this.db.prepare(
        `INSERT INTO site_jobs (grid_id, position, site, aliases, state) VALUES (?, ?, ?, ?, 'submitting')`,
      );
      for (const [i, s] of sites.entries()) ins.run(id, i, s.site, JSON.stringify(s.aliases));
      return id;
    })();
  }

  setKeyFile(id: number, keyFile: string): void {
    this.db.prepare('UPDATE grids SET key_file = ? WHERE id = ?').run(keyFile, id);
  }

  setGridState(id: number, state: GridState): void {
    this.db.prepare('UPDATE grids SET state = ? WHERE id = ?').run(state, id);
  }

  setSiteJob(
    id: number,
    site: string,
    state: SiteJobState,
    fields: { batchId?: number; message?: string } = {},
  ): void {
    this.db
      .prepare(
        `UPDATE site_jobs SET state = ?, batch_id = COALESCE(?, batch_id), message = COALESCE(?, message)
         WHERE grid_id = ? AND site = ?`,
      )
      .run(state, fields.batchId ?? null, fields.message ?? null, id, site);
  }

  grid(id: number): { grid: GridRecord; sites: SiteJobRecord[] } | undefined {
    const row = this.db.prepare('SELECT * FROM grids WHERE id = ?').get(id) as GridRow | undefined;
    if (!row) return undefined;
    const sites = (
      this.db
        .prepare(
          'SELECT site, aliases, batch_id, state, message FROM site_jobs WHERE grid_id = ? ORDER BY position',
        )
        .all(id) as SiteRow[]
    ).map(
      (s): SiteJobRecord => ({
        site: s.site,
        aliases: JSON.parse(s.aliases) as string[],
        ...(s.batch_id === null ? {} : { batchId: s.batch_id }),
        state: s.state,
        message: s.message,
      }),
    );
    return {
      grid: {
        id: row.id,
        submittedAt: row.submitted_at,
        startAt: row.start_at,
        walltimeS: row.walltime_s,
        types: JSON.parse(row.types) as string[],
        description: row.description,
        keyFile: row.key_file,
        state: row.state,
      },
      sites,
    };
  }

  /** The grid, or KAPLOY_NOT_FOUND naming where it was looked for. */
  mustGet(id: number): { grid: GridRecord; sites: SiteJobRecord[] } {
    const g = this.grid(id);
    if (!g) {
      throw new KaployError(
        'KAPLOY_NOT_FOUND',
        `no grid reservation ${id} in ${path.join(this.dir, 'oargrid.sqlite')}`,
      );
    }
    return g;
  }
}

/** A grid id as the tutorial passes it (`$grid_job_id`, maybe with the space `cut` leaves). */
export function parseGridId(text: string | undefined): number {
  const t = (text ?? '').trim();
  if (!/^\d{1,12}$/.test(t) || Number(t) < 1) {
    throw new KaployError(
      'KAPLOY_OPTION',
      `'${(text ?? '').slice(0, 40)}' is not a grid reservation id (a positive number)`,
    );
  }
  return Number(t);
}
