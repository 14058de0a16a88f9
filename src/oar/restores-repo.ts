import type { Database } from 'better-sqlite3';

/**
 * Durable restore requests, one row per (job, node), in the engine's SQLite store. The table is
 * the queue: the worker picks pending rows, so nothing acknowledged is lost across restarts.
 * States: pending -> running -> done | failed; `superseded` when a later job's request for the
 * same node replaces an unfinished one.
 */
export const RESTORE_STATES = ['pending', 'running', 'done', 'failed', 'superseded'] as const;
export type RestoreState = (typeof RESTORE_STATES)[number];

export interface RestoreRow {
  job: number;
  node: string;
  user: string;
  production: string;
  state: RestoreState;
  attempts: number;
  reason: string;
  next_attempt: number;
  created: number;
  updated: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS oar_restores (
  job INTEGER NOT NULL,
  node TEXT NOT NULL,
  user TEXT NOT NULL,
  production TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending','running','done','failed','superseded')),
  attempts INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  next_attempt INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (job, node)
);
CREATE INDEX IF NOT EXISTS oar_restores_state ON oar_restores(state, next_attempt);
CREATE INDEX IF NOT EXISTS oar_restores_node ON oar_restores(node);
`;

export class RestoresRepo {
  readonly #db: Database;

  /** Creates the table if needed (idempotent, in one transaction). */
  constructor(db: Database) {
    this.#db = db;
    db.transaction(() => db.exec(SCHEMA))();
  }

  /**
   * Records a job's request; idempotent per (job, node): a re-delivered request adds nothing.
   * Returns the number of rows added.
   */
  record(
    req: { job: number; user: string; nodes: readonly string[]; production: string },
    now: number,
  ): number {
    const supersede = this.#db.prepare(
      "UPDATE oar_restores SET state = 'superseded', updated = ? WHERE node = ? AND job < ? AND state IN ('pending','failed')",
    );
    const insert = this.#db.prepare(
      "INSERT OR IGNORE INTO oar_restores (job, node, user, production, state, created, updated) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
    );
    return this.#db.transaction(() => {
      let added = 0;
      for (const node of req.nodes) {
        const r = insert.run(req.job, node, req.user, req.production, now, now);
        if (r.changes > 0) {
          added++;
          supersede.run(now, node, req.job);
        }
      }
      return added;
    })();
  }

  list(filter: { state?: RestoreState; job?: number } = {}): RestoreRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.state !== undefined) {
      where.push('state = ?');
      args.push(filter.state);
    }
    if (filter.job !== undefined) {
      where.push('job = ?');
      args.push(filter.job);
    }
    const sql = `SELECT * FROM oar_restores${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY job, node`;
    return this.#db.prepare(sql).all(...args) as RestoreRow[];
  }

  /** Pending rows whose time has come, oldest job first. */
  due(now: number, limit: number): RestoreRow[] {
    return this.#db
      .prepare(
        "SELECT * FROM oar_restores WHERE state = 'pending' AND next_attempt <= ? ORDER BY job, node LIMIT ?",
      )
      .all(now, limit) as RestoreRow[];
  }

  /** Earliest next_attempt among pending rows (undefined: none pending). */
  nextDueAt(): number | undefined {
    const r = this.#db
      .prepare("SELECT MIN(next_attempt) AS t FROM oar_restores WHERE state = 'pending'")
      .get() as { t: number | null };
    return r.t ?? undefined;
  }

  /** pending -> running; false if another claim (or a supersede) got there first. */
  claim(job: number, node: string, now: number): boolean {
    return (
      this.#db
        .prepare(
          "UPDATE oar_restores SET state = 'running', attempts = attempts + 1, updated = ? WHERE job = ? AND node = ? AND state = 'pending'",
        )
        .run(now, job, node).changes > 0
    );
  }

  finish(job: number, node: string, state: 'done' | 'failed', reason: string, now: number): void {
    this.#db
      .prepare(
        "UPDATE oar_restores SET state = ?, reason = ?, updated = ? WHERE job = ? AND node = ? AND state = 'running'",
      )
      .run(state, reason, now, job, node);
  }

  /** running -> pending, to try again at `at`; `countAttempt` false gives the attempt back (shutdown). */
  reschedule(job: number, node: string, at: number, reason: string, now: number, countAttempt = true): void {
    this.#db
      .prepare(
        `UPDATE oar_restores SET state = 'pending', next_attempt = ?, reason = ?, updated = ?${countAttempt ? '' : ', attempts = attempts - 1'} WHERE job = ? AND node = ? AND state = 'running'`,
      )
      .run(at, reason, now, job, node);
  }

  /** At worker start: restores cut short by an engine stop are pending again (not counted). */
  resumeInterrupted(now: number): number {
    return this.#db
      .prepare(
        "UPDATE oar_restores SET state = 'pending', attempts = MAX(attempts - 1, 0), next_attempt = 0, updated = ? WHERE state = 'running'",
      )
      .run(now).changes;
  }

  /** failed -> pending for a new round of attempts (an admin's retry); returns the count. */
  retry(filter: { job?: number; nodes?: readonly string[] }, now: number): number {
    const where = ["state = 'failed'"];
    const args: unknown[] = [now];
    if (filter.job !== undefined) {
      where.push('job = ?');
      args.push(filter.job);
    }
    if (filter.nodes !== undefined && filter.nodes.length > 0) {
      where.push(`node IN (${filter.nodes.map(() => '?').join(',')})`);
      args.push(...filter.nodes);
    }
    return this.#db
      .prepare(
        `UPDATE oar_restores SET state = 'pending', attempts = 0, next_attempt = 0, updated = ? WHERE ${where.join(' AND ')}`,
      )
      .run(...args).changes;
  }
}
