import type { Database } from 'better-sqlite3';
import type { RestoreRow, RestoreState } from '../../api/restores.js';

/**
 * Durable restore requests, one row per (job, node), in the engine's SQLite store. The table is
 * the queue: the worker picks pending rows, so nothing acknowledged is lost across restarts.
 * States: pending -> running -> done | failed; `superseded` when a later job's request for the
 * same node replaces an unfinished one, or when the node already belongs to a later job (a request
 * delivered late, after an admin put the node back by hand and a new deploy job got it: restoring
 * it would reboot that job's node and the later job's own end restores it anyway).
 */
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

export interface RestoresRepoOptions {
  /** The newest OAR job holding deploy rights on the node (the engine's rights store). */
  newestJobOn?: (node: string) => number | undefined;
}

export class RestoresRepo {
  readonly #db: Database;
  readonly #newestJobOn: (node: string) => number | undefined;

  /** Creates the table if needed (idempotent, in one transaction). */
  constructor(db: Database, opts: RestoresRepoOptions = {}) {
    this.#db = db;
    this.#newestJobOn = opts.newestJobOn ?? (() => undefined);
    db.transaction(() => db.exec(SCHEMA))();
  }

  /** A job later than `job` that has the node: its rights, or its own restore request. */
  #laterJob(node: string, job: number): number | undefined {
    const r = this.#db.prepare('SELECT MAX(job) AS job FROM oar_restores WHERE node = ?').get(node) as {
      job: number | null;
    };
    const later = Math.max(r.job ?? 0, this.#newestJobOn(node) ?? 0);
    return later > job ? later : undefined;
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
      'INSERT OR IGNORE INTO oar_restores (job, node, user, production, state, reason, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    return this.#db.transaction(() => {
      let added = 0;
      for (const node of req.nodes) {
        const later = this.#laterJob(node, req.job);
        const [state, reason] =
          later === undefined ? ['pending', ''] : ['superseded', `the node is in job ${later} since`];
        const r = insert.run(req.job, node, req.user, req.production, state, reason, now, now);
        if (r.changes > 0) {
          added++;
          if (later === undefined) supersede.run(now, node, req.job);
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

  /**
   * pending -> running; false if another claim (or a supersede) got there first, or if a later
   * job has the node by now (the row is then superseded).
   */
  claim(job: number, node: string, now: number): boolean {
    const later = this.#newestJobOn(node);
    if (later !== undefined && later > job) {
      this.#db
        .prepare(
          "UPDATE oar_restores SET state = 'superseded', reason = ?, updated = ? WHERE job = ? AND node = ? AND state = 'pending'",
        )
        .run(`the node is in job ${later} since`, now, job, node);
      return false;
    }
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
