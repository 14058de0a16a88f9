import type { Database } from 'better-sqlite3';
import type { RestoreRow } from '../../api/restores.js';
import type { RestoreConfig } from '../../common/hooks-config.js';
import type { Logger } from '../../common/logger.js';
import { type OperationMetrics, operationOutcome } from '../metrics/operation-metrics.js';
import { holdOutOfService, putBackInService } from './node-service.js';
import type { StepOutcome } from './restore-plan.js';
import { RestoresRepo } from './restores-repo.js';

/** Rows restored together: nodes due at the same time with the same production environment. */
export interface RestoreGroup {
  production: string;
  /** One entry per node (a node is never twice in a group, nor in two running groups). */
  nodes: readonly { node: string; job: number; user: string }[];
}

/**
 * Restores a group of nodes to production, with as few operations as it can (the engine's: one
 * reboot for the nodes that only need one, one deployment for the others and those whose reboot
 * failed; see engineRestoreGroup). Each node's outcome is a value given to `report` as soon as it
 * is known (the first report of a node counts); nodes reported restored by one call go back in
 * service by one put-back run. A node not reported when the promise settles has failed (with the
 * thrown error's message if it threw). Aborting `signal` cancels the operations.
 */
export type RestoreGroupFn = (
  group: RestoreGroup,
  opts: { signal: AbortSignal; report: (nodes: string | readonly string[], outcome: StepOutcome) => void },
) => Promise<void>;

export interface RestoreWorkerOptions {
  db: Database;
  restoreGroup: RestoreGroupFn;
  config: RestoreConfig;
  logger: Logger;
  /** How often the table is looked at when nothing woke the worker (rows from another process, backoff). */
  pollMs?: number;
  now?: () => number;
  /** The newest OAR job holding rights on a node: a restore for an older job is then superseded. */
  newestJobOn?: (node: string) => number | undefined;
  /** Overrides for tests; default: the configured oarnodesetting commands. */
  putBack?: (nodes: string[], signal: AbortSignal) => Promise<StepOutcome>;
  holdOut?: (node: string, reason: string, signal: AbortSignal) => Promise<StepOutcome>;
  /** Each group's restore counted as an operation of kind `restore` (the engine's metrics). */
  metrics?: Pick<OperationMetrics, 'restoreStarted' | 'restoreEnded'>;
}

/** Delay before attempt n+1 after n failed attempts: retryDelay, doubled each time. */
export function restoreRetryDelayMs(retryDelayMs: number, failedAttempts: number): number {
  return retryDelayMs * 2 ** Math.max(0, Math.min(failedAttempts - 1, 20));
}

/**
 * Runs pending restores, at most `concurrency` nodes at once and one restore per node, and puts
 * each node back in service (Alive) once it runs production, or holds it out (Absent + reason)
 * after `maxAttempts`. Rows due at the same time (a job's nodes, whose request is recorded at
 * once) are claimed together and restored as groups of at most `groupMax` nodes with the same
 * production environment: one reboot operation, one deployment (one image broadcast) for the
 * group, instead of one per node. Outcomes, retries and hold-outs stay per node: a node that
 * fails does not fail the others. Survives restarts: rows cut short by a stop are pending again.
 * Put-backs are grouped: one run of the alive command at a time, for every node restored while
 * the previous run was going (at most `aliveBatch`); a node put back waits only for its own
 * group's operation, not for other nodes' fallbacks (results are reported as they are known).
 * Why groups: see docs/decisions/0009-grouped-oar-restores.md.
 */
export class RestoreWorker {
  readonly repo: RestoresRepo;
  readonly #o: RestoreWorkerOptions;
  readonly #now: () => number;
  readonly #ac = new AbortController();
  /** Nodes claimed and not settled yet (their group's operation running, or their put-back). */
  readonly #inflight = new Set<string>();
  readonly #groups = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #idleWaiters: (() => void)[] = [];
  #backQueue: { node: string; done: (o: StepOutcome) => void }[] = [];
  #backRunning = false;

  constructor(o: RestoreWorkerOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.repo = new RestoresRepo(o.db, o.newestJobOn ? { newestJobOn: o.newestJobOn } : {});
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    const resumed = this.repo.resumeInterrupted(this.#now());
    if (resumed > 0)
      this.#o.logger.info({ resumed }, 'oar restores: resuming restores interrupted by the last stop');
    this.wake();
  }

  /** Looks for due rows now (after a request was recorded or a retry asked). */
  wake(): void {
    if (!this.#started || this.#ac.signal.aborted) return;
    this.#tick();
  }

  /** Resolves once nothing is running and nothing pending is due (tests, shutdown). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops starting restores, aborts the running ones (they become pending again) and waits for them. */
  async stop(): Promise<void> {
    this.#ac.abort(new Error('restore worker stopping'));
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.allSettled([...this.#groups]);
  }

  #isIdle(): boolean {
    if (this.#inflight.size > 0 || this.#groups.size > 0) return false;
    const next = this.repo.nextDueAt();
    return next === undefined || next > this.#now();
  }

  #tick(): void {
    if (this.#ac.signal.aborted) return;
    const { concurrency, groupMax } = this.#o.config;
    const free = concurrency - this.#inflight.size;
    if (free > 0) {
      // Fetch a little more than needed: rows for nodes already being restored are skipped.
      const claimed: RestoreRow[] = [];
      for (const row of this.repo.due(this.#now(), free + this.#inflight.size)) {
        if (claimed.length >= free) break;
        if (this.#inflight.has(row.node)) continue;
        // Each row on its own: a row another worker claimed or a later job superseded is skipped.
        if (!this.repo.claim(row.job, row.node, this.#now())) continue;
        this.#inflight.add(row.node);
        claimed.push({ ...row, attempts: row.attempts + 1 });
      }
      const byProduction = new Map<string, RestoreRow[]>();
      for (const row of claimed) {
        const same = byProduction.get(row.production) ?? [];
        same.push(row);
        byProduction.set(row.production, same);
      }
      const size = Math.max(1, groupMax);
      for (const same of byProduction.values())
        for (let i = 0; i < same.length; i += size) {
          const g = this.#restoreGroup(same.slice(i, i + size)).finally(() => {
            this.#groups.delete(g);
            this.#tick();
          });
          this.#groups.add(g);
        }
    }
    this.#schedule();
    if (this.#isIdle()) for (const w of this.#idleWaiters.splice(0)) w();
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    const poll = this.#o.pollMs ?? 2_000;
    const next = this.repo.nextDueAt();
    const delay = next === undefined ? poll : Math.max(0, Math.min(poll, next - this.#now()));
    this.#timer = setTimeout(() => this.#tick(), delay);
    this.#timer.unref();
  }

  /**
   * Queues restored nodes for the next put-back run (started now if none is going): nodes
   * reported restored together (by one operation) are queued together.
   */
  #putBack(nodes: readonly string[]): Promise<StepOutcome>[] {
    const outs = nodes.map(
      (node) => new Promise<StepOutcome>((done) => this.#backQueue.push({ node, done })),
    );
    if (!this.#backRunning) void this.#runPutBacks();
    return outs;
  }

  async #runPutBacks(): Promise<void> {
    this.#backRunning = true;
    const { config } = this.#o;
    const putBack = this.#o.putBack ?? ((ns: string[], s: AbortSignal) => putBackInService(config, ns, s));
    const attempt = async (nodes: string[]): Promise<StepOutcome> => {
      try {
        return await putBack(nodes, this.#ac.signal);
      } catch (e) {
        return { ok: false, reason: (e as Error).message };
      }
    };
    try {
      while (this.#backQueue.length > 0) {
        const batch = this.#backQueue.splice(0, Math.max(1, config.aliveBatch));
        const out = await attempt(batch.map((b) => b.node));
        if (out.ok || batch.length === 1 || this.#ac.signal.aborted) {
          for (const b of batch) b.done(out);
          continue;
        }
        // The grouped run failed: each node alone, so that one bad node fails only itself.
        this.#o.logger.warn(
          { nodes: batch.length, reason: out.reason },
          'oar restore: putting nodes back together failed, trying each alone',
        );
        for (const b of batch) b.done(await attempt([b.node]));
      }
    } finally {
      this.#backRunning = false;
    }
  }

  /** One group's restore; each node is settled (put back, retried or held out) once reported. */
  async #restoreGroup(rows: RestoreRow[]): Promise<void> {
    const { config, logger } = this.#o;
    const [first] = rows;
    if (!first) return;
    const waiting = new Map(rows.map((r) => [r.node, r]));
    const settling: Promise<void>[] = [];
    const statuses: string[] = [];
    this.#o.metrics?.restoreStarted();
    const report = (nodes: string | readonly string[], outcome: StepOutcome): void => {
      const mine = (typeof nodes === 'string' ? [nodes] : nodes).flatMap((n) => {
        const row = waiting.get(n);
        if (!row) return [];
        waiting.delete(n);
        return [row];
      });
      statuses.push(...mine.map(() => (outcome.ok ? 'ok' : 'ko')));
      const backs =
        outcome.ok && !this.#ac.signal.aborted ? this.#putBack(mine.map((r) => r.node)) : undefined;
      mine.forEach((row, i) => {
        settling.push(
          this.#settle(row, outcome, backs?.[i]).finally(() => {
            this.#inflight.delete(row.node);
            this.#tick();
          }),
        );
      });
    };
    const signal = AbortSignal.any([this.#ac.signal, AbortSignal.timeout(config.nodeTimeoutMs)]);
    let missing = 'the restore reported no outcome for the node';
    if (rows.length > 1)
      logger.info(
        { nodes: rows.length, jobs: [...new Set(rows.map((r) => r.job))], production: first.production },
        'oar restore: restoring nodes together',
      );
    try {
      await this.#o.restoreGroup(
        {
          production: first.production,
          nodes: rows.map((r) => ({ node: r.node, job: r.job, user: r.user })),
        },
        { signal, report },
      );
    } catch (e) {
      missing = (e as Error).message;
    }
    for (const node of [...waiting.keys()]) report(node, { ok: false, reason: missing });
    this.#o.metrics?.restoreEnded(operationOutcome(statuses, false, this.#ac.signal.aborted));
    await Promise.allSettled(settling);
  }

  /**
   * A node's outcome: put back in service (`back`: its queued put-back), or tried again later, or
   * held out of service.
   */
  async #settle(row: RestoreRow, result: StepOutcome, back?: Promise<StepOutcome>): Promise<void> {
    const { config, logger } = this.#o;
    const log = logger.child({ job: row.job, node: row.node });
    let outcome = result;
    if (this.#ac.signal.aborted) {
      // Engine stopping: not the node's fault, try again after the restart.
      this.repo.reschedule(row.job, row.node, 0, 'interrupted by an engine stop', this.#now(), false);
      return;
    }
    if (outcome.ok) {
      const b = await (back ?? this.#putBack([row.node])[0] ?? { ok: false, reason: 'not queued' });
      if (b.ok) {
        this.repo.finish(row.job, row.node, 'done', '', this.#now());
        log.info('oar restore: production restored, node back in service (Alive)');
        return;
      }
      outcome = {
        ok: false,
        reason: `production restored but putting the node back in service failed: ${b.reason}`,
      };
    }
    if (row.attempts < config.maxAttempts) {
      const at = this.#now() + restoreRetryDelayMs(config.retryDelayMs, row.attempts);
      this.repo.reschedule(row.job, row.node, at, outcome.reason, this.#now());
      log.warn({ attempt: row.attempts, reason: outcome.reason }, 'oar restore failed, will try again');
      return;
    }
    const held = await (this.#o.holdOut ?? ((n, r, s) => holdOutOfService(config, n, r, s)))(
      row.node,
      outcome.reason,
      this.#ac.signal,
    );
    const reason = held.ok
      ? outcome.reason
      : `${outcome.reason}; holding it out of service also failed: ${held.reason}`;
    this.repo.finish(row.job, row.node, 'failed', reason, this.#now());
    log.error({ attempts: row.attempts, reason }, 'oar restore failed: node held out of service');
  }
}
