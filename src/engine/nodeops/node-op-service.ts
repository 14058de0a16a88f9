import { randomUUID } from 'node:crypto';
import type { OperationStatus } from '../../api/operation-status.js';
import { errorMessage, KaployError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { recordStats } from '../../stats/record-stats.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import { longPollLog } from '../operations/log-long-poll.js';
import type { EngineContext } from '../server/context.js';
import { notFound } from '../server/http-errors.js';
import type { NodeUpdate } from '../store/nodes-repo.js';
import { NodeOpLog } from './node-op-log.js';
import { type NodeOpOutcome, statsRows, toApiOutcome } from './node-op-outcome.js';
import { NodeOpResults } from './nodeop-results.js';

export type NodeOpKind = 'reboot' | 'power';

/** What a reboot or power operation is, once its request was checked (nothing touched yet). */
export interface NodeOpPlan {
  kind: NodeOpKind;
  user: string;
  nodes: string[];
  /** Stored in the workflows table as the request. */
  request: unknown;
  /** step1 of the statistics rows (Simple, SetPXE, DeployEnv, RecordedEnv, On, Off, Status). */
  impl: string;
  /** `name:version` for the statistics rows (recorded_env), else ''. */
  env: string;
  discarded: string[];
  /** The node state while it runs (rebooting, powering); undefined leaves states alone (power status). */
  runningState?: string;
  debug: boolean;
  run(r: NodeOpRun): Promise<NodeOpOutcome[]>;
  /** The node's row once its outcome is known. */
  settle(o: NodeOpOutcome): NodeUpdate | undefined;
}

export interface NodeOpRun {
  wid: string;
  log: NodeOpLog;
  signal: AbortSignal;
  logger: Logger;
}

interface Live {
  wid: string;
  plan: NodeOpPlan;
  log: NodeOpLog;
  startedAt: number;
  finishedAt?: number;
  controller: AbortController;
  outcomes?: NodeOpOutcome[];
  status: OperationStatus['status'];
  error?: { code: string; message: string };
  done: Promise<void>;
}

const KEEP_MS = 360 * 60_000;
const TITLE: Record<NodeOpKind, string> = { reboot: 'Reboot', power: 'Power operation' };
const PREFIX: Record<NodeOpKind, string> = { reboot: 'R', power: 'P' };

/**
 * The life of reboot (R-) and power (P-) operations in the engine, as DeploymentService does for
 * deployments: workflow row, registration in ctx.operations (so revoking rights cancels it), node
 * states, a log read at the client's verbosity, one statistics row per node whatever the outcome,
 * and recovery of the ones an engine crash left unfinished.
 */
export class NodeOpService {
  readonly #live = new Map<string, Live>();
  readonly #results: NodeOpResults;

  constructor(
    private readonly ctx: EngineContext,
    readonly kind: NodeOpKind,
  ) {
    this.#results = new NodeOpResults(ctx.store.db);
    this.recoverInterrupted();
  }

  recoverInterrupted(): void {
    for (const w of this.ctx.store.workflows.list({ kind: this.kind, unfinished: true })) {
      let req: { nodes?: unknown; impl?: unknown } = {};
      try {
        req = JSON.parse(w.request) as typeof req;
      } catch {
        /* unreadable request: no node to settle */
      }
      const nodes = Array.isArray(req.nodes)
        ? req.nodes.filter((n): n is string => typeof n === 'string')
        : [];
      const reason = `the engine stopped during the ${this.kind} operation`;
      const impl = typeof req.impl === 'string' ? req.impl : this.kind === 'reboot' ? 'Simple' : 'Status';
      const outcomes: NodeOpOutcome[] = nodes.map((node) => ({
        node,
        status: 'ko',
        step: impl,
        reason,
        retries: 0,
        timeoutSec: 0,
        durationMs: 0,
      }));
      this.ctx.store.transaction(() => {
        for (const n of nodes) {
          const row = this.ctx.store.nodes.get(n);
          if (row?.wid === w.wid) this.ctx.store.nodes.update(n, { state: `${this.kind}_failed` });
        }
        recordStats(
          this.ctx.store.db,
          statsRows(outcomes, {
            wid: w.wid,
            operation: this.kind,
            user: w.user,
            startMs: w.created,
            env: '',
          }),
        );
        this.#results.save(w.wid, outcomes, { code: 'KAPLOY_INTERNAL', message: reason });
        this.ctx.store.workflows.setStatus(w.wid, 'failed', true);
      });
    }
  }

  /** Starts the operation; returns its id at once. `done` resolves with the outcomes. */
  launch(plan: NodeOpPlan): { wid: string; done: Promise<NodeOpOutcome[]> } {
    this.#prune();
    const wid = `${PREFIX[this.kind]}-${randomUUID()}`;
    const log = new NodeOpLog(plan.nodes);
    const controller = new AbortController();
    const onShutdown = () => controller.abort(new Error('server shutting down'));
    this.ctx.signal.addEventListener('abort', onShutdown, { once: true });
    this.ctx.store.transaction(() => {
      this.ctx.store.workflows.insert({
        wid,
        kind: this.kind,
        user: plan.user,
        status: 'running',
        request: { ...(plan.request as object), nodes: plan.nodes, impl: plan.impl },
      });
      if (plan.runningState)
        for (const n of plan.nodes)
          this.ctx.store.nodes.update(n, { state: plan.runningState, user: plan.user, wid });
    });
    log.line(0, `${TITLE[this.kind]} #${wid} started`);
    if (plan.discarded.length > 0)
      log.line(
        0,
        `The nodes ${plan.discarded.join(', ')} are already involved in an operation, let's discard them`,
      );
    const live: Live = {
      wid,
      plan,
      log,
      startedAt: Date.now(),
      controller,
      status: 'running',
      done: Promise.resolve(),
    };
    const unregister = this.ctx.operations.register({
      wid,
      kind: this.kind,
      user: plan.user,
      nodes: plan.nodes,
      cancel: (reason) => {
        log.line(0, `${TITLE[this.kind]} #${wid} cancelled: ${reason}`);
        controller.abort(new Error(reason));
      },
    });
    const done = this.#run(live).finally(() => {
      unregister();
      this.ctx.signal.removeEventListener('abort', onShutdown);
    });
    live.done = done.then(() => undefined);
    this.#live.set(wid, live);
    return { wid, done };
  }

  async #run(live: Live): Promise<NodeOpOutcome[]> {
    const logger = this.ctx.logger.child({ workflow: live.wid });
    let outcomes: NodeOpOutcome[] = [];
    try {
      outcomes = await live.plan.run({
        wid: live.wid,
        log: live.log,
        signal: live.controller.signal,
        logger,
      });
      live.status = live.controller.signal.aborted ? 'cancelled' : 'done';
    } catch (e) {
      logger.error({ err: e }, `${this.kind} operation failed`);
      live.error = { code: e instanceof KaployError ? e.code : 'KAPLOY_INTERNAL', message: errorMessage(e) };
      live.status = 'failed';
      live.log.line(0, `${TITLE[this.kind]} #${live.wid} failed: ${errorMessage(e)}`);
    }
    const seen = new Set(outcomes.map((o) => o.node));
    for (const node of live.plan.nodes) {
      if (seen.has(node)) continue;
      outcomes.push({
        node,
        status: live.controller.signal.aborted ? 'cancelled' : 'ko',
        step: live.plan.impl,
        reason: live.error?.message ?? 'no result',
        retries: 0,
        timeoutSec: 0,
        durationMs: Date.now() - live.startedAt,
      });
    }
    this.#finish(live, outcomes);
    return outcomes;
  }

  #finish(live: Live, outcomes: NodeOpOutcome[]): void {
    live.outcomes = outcomes;
    live.finishedAt = Date.now();
    const { plan, wid } = live;
    const rows = statsRows(outcomes, {
      wid,
      operation: this.kind,
      user: plan.user,
      startMs: live.startedAt,
      env: plan.env,
    });
    this.ctx.store.transaction(() => {
      for (const o of outcomes) {
        const update = plan.settle(o);
        if (update) this.ctx.store.nodes.update(o.node, update);
      }
      recordStats(this.ctx.store.db, rows);
      this.#results.save(wid, outcomes, live.error);
      this.ctx.store.workflows.setStatus(wid, live.status, true);
    });
    for (const o of outcomes) {
      live.log.nodes.set(o.node, {
        macro: o.step,
        ...(o.micro ? { micro: o.micro } : {}),
        state: o.status,
        ...(o.reason ? { error: o.reason } : {}),
      });
    }
    const ok = outcomes.filter((o) => o.status === 'ok').length;
    live.log.line(0, `${TITLE[this.kind]} #${wid} done (${ok}/${outcomes.length} nodes OK)`);
    live.log.done = true;
  }

  #prune(): void {
    const now = Date.now();
    for (const [wid, l] of this.#live)
      if (l.finishedAt && now - l.finishedAt > KEEP_MS) this.#live.delete(wid);
  }

  #get(caller: AuthenticatedUser, wid: string): Live | undefined {
    const l = this.#live.get(wid);
    if (l && l.plan.user !== caller.name && !caller.admin) return undefined;
    return l;
  }

  status(caller: AuthenticatedUser, wid: string): OperationStatus {
    const l = this.#get(caller, wid);
    if (l) {
      return {
        wid,
        kind: this.kind,
        user: l.plan.user,
        status: l.status,
        ...(l.plan.env ? { environment: l.plan.env } : {}),
        startedAt: l.startedAt,
        ...(l.finishedAt ? { finishedAt: l.finishedAt } : {}),
        nodes: Object.fromEntries(l.log.nodes),
        ...(l.outcomes ? { outcomes: l.outcomes.map(toApiOutcome) } : {}),
        ...(l.error ? { error: l.error } : {}),
      };
    }
    const row = this.ctx.store.workflows.get(wid);
    if (!row || row.kind !== this.kind || (row.user !== caller.name && !caller.admin))
      throw notFound('KAPLOY_INVALID_WORKFLOW_ID', `no ${this.kind} operation ${wid}`);
    const res = this.#results.get(wid);
    return {
      wid,
      kind: this.kind,
      user: row.user,
      status: row.status as OperationStatus['status'],
      startedAt: row.created,
      ...(row.finished ? { finishedAt: row.finished } : {}),
      nodes: Object.fromEntries(
        (res?.outcomes ?? []).map((o) => [
          o.node,
          { state: o.status, ...(o.reason ? { error: o.reason } : {}) },
        ]),
      ),
      ...(res ? { outcomes: res.outcomes.map(toApiOutcome) } : {}),
      ...(res?.error ? { error: res.error } : {}),
    };
  }

  logs(caller: AuthenticatedUser, wid: string, from: number, verbosity: number, debug: boolean) {
    const l = this.#get(caller, wid);
    if (!l) {
      this.status(caller, wid); // 404 when unknown; a finished one from before a restart has no log
      return { lines: [], next: from, done: true };
    }
    const page = l.log.read(from, verbosity, debug || l.plan.debug);
    return { ...page, done: l.log.done && page.next >= l.log.entries.length };
  }

  /** `logs` as a long poll: answers at the next line this reader sees, or the end (see longPollLog). */
  logsWait(
    caller: AuthenticatedUser,
    wid: string,
    from: number,
    verbosity: number,
    debug: boolean,
    waitMs: number,
    signal: AbortSignal,
  ) {
    return longPollLog(
      (at) => this.logs(caller, wid, at, verbosity, debug),
      () => this.#get(caller, wid)?.log,
      from,
      waitMs,
      signal,
    );
  }

  cancel(caller: AuthenticatedUser, wid: string): void {
    const l = this.#get(caller, wid);
    if (!l) throw notFound('KAPLOY_INVALID_WORKFLOW_ID', `no running ${this.kind} operation ${wid}`);
    if (!l.log.done) {
      l.log.line(0, `${TITLE[this.kind]} #${wid} cancelled by ${caller.name}`);
      l.controller.abort(new Error(`cancelled by ${caller.name}`));
    }
  }

  /** Running operations visible to the caller (kanodes3 -r / -p). */
  list(caller: AuthenticatedUser): OperationStatus[] {
    return [...this.#live.values()]
      .filter((l) => !l.finishedAt)
      .flatMap((l) => {
        try {
          return [this.status(caller, l.wid)];
        } catch {
          return [];
        }
      });
  }

  async idle(): Promise<void> {
    await Promise.all([...this.#live.values()].map((l) => l.done));
  }
}
