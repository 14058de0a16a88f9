import type { Database } from 'better-sqlite3';

/** Where one node of an operation is: the last micro-step it completed in an attempt. */
export interface ProgressPosition {
  node: string;
  macro: string;
  impl: string;
  attempt: number;
  /** The last micro-step completed in this attempt; null: the attempt started, none completed. */
  micro: string | null;
  /** The next micro-step, when it cannot be redone safely and the node is entering it. */
  entered: string | null;
  /** JSON: the node's statistics record so far (the workflow runner's ledger). */
  ledger: string;
}

/** One node's row: its position (absent when it finished before completing any step) and outcome. */
export interface ProgressRow {
  node: string;
  macro: string | null;
  impl: string | null;
  attempt: number | null;
  micro: string | null;
  entered: string | null;
  ledger: string | null;
  /** JSON: the node's final outcome once known. */
  outcome: string | null;
}

/**
 * Per-node progress of running operations (durable workflows, docs/decisions/0033): written as the
 * nodes complete micro-steps, read at engine start to resume each node where it was.
 */
export class ProgressRepo {
  constructor(private readonly db: Database) {}

  /** Positions, then outcomes, in one transaction (one commit, one fsync). */
  write(
    wid: string,
    positions: readonly ProgressPosition[],
    outcomes: readonly { node: string; outcome: string }[],
  ): void {
    const at = this.db.prepare(
      `INSERT INTO workflow_progress (wid, node, macro, impl, attempt, micro, entered, ledger)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(wid, node) DO UPDATE SET macro = excluded.macro, impl = excluded.impl,
         attempt = excluded.attempt, micro = excluded.micro, entered = excluded.entered,
         ledger = excluded.ledger`,
    );
    const end = this.db.prepare(
      `INSERT INTO workflow_progress (wid, node, outcome) VALUES (?, ?, ?)
       ON CONFLICT(wid, node) DO UPDATE SET outcome = excluded.outcome`,
    );
    this.db.transaction(() => {
      for (const p of positions)
        at.run(wid, p.node, p.macro, p.impl, p.attempt, p.micro, p.entered, p.ledger);
      for (const o of outcomes) end.run(wid, o.node, o.outcome);
    })();
  }

  of(wid: string): ProgressRow[] {
    return this.db
      .prepare(
        'SELECT node, macro, impl, attempt, micro, entered, ledger, outcome FROM workflow_progress WHERE wid = ?',
      )
      .all(wid) as ProgressRow[];
  }

  /** What a run deploys (`name:version` and image md5), recorded when it starts. */
  begin(wid: string, env: string, md5: string): void {
    this.db
      .prepare(
        `INSERT INTO workflow_runs (wid, env, md5) VALUES (?, ?, ?)
         ON CONFLICT(wid) DO UPDATE SET env = excluded.env, md5 = excluded.md5`,
      )
      .run(wid, env, md5);
  }

  run(wid: string): { env: string; md5: string; resumes: number } | undefined {
    return this.db.prepare('SELECT env, md5, resumes FROM workflow_runs WHERE wid = ?').get(wid) as
      | { env: string; md5: string; resumes: number }
      | undefined;
  }

  /** One more resumption of `wid`; returns how many it has had, this one included. */
  resumed(wid: string): number {
    const row = this.db
      .prepare(
        `INSERT INTO workflow_runs (wid, resumes) VALUES (?, 1)
         ON CONFLICT(wid) DO UPDATE SET resumes = resumes + 1 RETURNING resumes`,
      )
      .get(wid) as { resumes: number };
    return row.resumes;
  }

  /**
   * What a resumption of `wid` needs that its stored request leaves out (JSON: a reboot's keys and
   * PXE profile), kept until the next start after it ends (docs/decisions/0037).
   */
  keep(wid: string, extras: string): void {
    this.db
      .prepare(
        `INSERT INTO workflow_runs (wid, extras) VALUES (?, ?)
         ON CONFLICT(wid) DO UPDATE SET extras = excluded.extras`,
      )
      .run(wid, extras);
  }

  /** What keep() kept for `wid`; undefined when nothing was (an operation of an older engine). */
  extras(wid: string): string | undefined {
    const row = this.db.prepare('SELECT extras FROM workflow_runs WHERE wid = ?').get(wid) as
      | { extras: string | null }
      | undefined;
    return row?.extras ?? undefined;
  }

  /**
   * `wid` is run as a call by the engine itself (the OAR restore, whose own table makes it run
   * again after a restart): a restart settles it instead of resuming it.
   */
  markByCall(wid: string): void {
    this.db
      .prepare(
        `INSERT INTO workflow_runs (wid, by_call) VALUES (?, 1)
         ON CONFLICT(wid) DO UPDATE SET by_call = 1`,
      )
      .run(wid);
  }

  byCall(wid: string): boolean {
    const row = this.db.prepare('SELECT by_call FROM workflow_runs WHERE wid = ?').get(wid) as
      | { by_call: number }
      | undefined;
    return row?.by_call === 1;
  }

  /** `wid` waits for admission, after every one waiting already, with the nodes its checks kept. */
  enqueue(wid: string, nodes: readonly string[]): void {
    this.db
      .prepare('INSERT OR IGNORE INTO admission_queue (wid, nodes) VALUES (?, ?)')
      .run(wid, JSON.stringify(nodes));
  }

  /** `wid` left the admission queue (admitted). */
  dequeue(wid: string): void {
    this.db.prepare('DELETE FROM admission_queue WHERE wid = ?').run(wid);
  }

  /** The unfinished operations waiting for admission, first come first. */
  queue(): { wid: string; nodes: string }[] {
    return this.db
      .prepare(
        `SELECT q.wid, q.nodes FROM admission_queue q JOIN workflows w ON w.wid = q.wid
         WHERE w.finished IS NULL ORDER BY q.seq`,
      )
      .all() as { wid: string; nodes: string }[];
  }

  /** Drops the progress of finished operations (kept until the next start: their end is recorded). */
  forgetFinished(): void {
    const finished = 'SELECT wid FROM workflows WHERE finished IS NOT NULL';
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM workflow_progress WHERE wid IN (${finished})`).run();
      this.db.prepare(`DELETE FROM workflow_runs WHERE wid IN (${finished})`).run();
      this.db.prepare(`DELETE FROM admission_queue WHERE wid IN (${finished})`).run();
    })();
  }
}
