import { randomUUID } from 'node:crypto';
import type { LogPage, OperationStatus } from '../../api/operation-status.js';
import { errorMessage, KaployError } from '../../common/errors.js';
import { recordStats } from '../../stats/record-stats.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { EngineContext } from '../server/context.js';
import { notFound } from '../server/http-errors.js';
import { longPollLog } from './log-long-poll.js';
import type { BaseOutcome, OperationPlan, PlanKind } from './operation-kind.js';
import { OperationLog } from './operation-log.js';
import { settleInterrupted } from './operation-recovery.js';
import { OperationResults } from './operation-results.js';

type AnyKind = PlanKind<BaseOutcome>;

interface Live {
  wid: string;
  plan: OperationPlan<BaseOutcome>;
  log: OperationLog;
  startedAt: number;
  finishedAt?: number;
  controller: AbortController;
  outcomes?: BaseOutcome[];
  status: OperationStatus['status'];
  error?: { code: string; message: string };
  done: Promise<BaseOutcome[]>;
}

/** What a log reader asks: where it is, its verbosity, -d. */
export interface LogQuery {
  from: number;
  verbosity: number;
  debug: boolean;
}

/** Finished operations stay readable this long (Kadeploy keeps them 360 min). */
const KEEP_MS = 360 * 60_000;

/**
 * The life of every operation with per-node outcomes (deployments, reboots, power), whatever its
 * kind: the workflow row, registration in ctx.operations (so revoking rights or a shutdown cancels
 * it), node states while it runs and once each node's outcome is known, the live record and its
 * log (read at the reader's verbosity, as a long poll), cancel, one statistics row per node
 * whatever the outcome, the final outcomes (operation_results), and the settling of operations an
 * engine crash left unfinished. What differs between kinds is only the plan: its checks and its
 * per-node work (planDeployment, planReboot, planPower).
 */
export class OperationService {
  readonly #live = new Map<string, Live>();
  readonly #results: OperationResults;

  /** `kinds`: the kinds whose interrupted operations are settled now (at engine start). */
  constructor(
    private readonly ctx: EngineContext,
    kinds: readonly AnyKind[],
  ) {
    this.#results = new OperationResults(ctx.store.db);
    settleInterrupted(ctx, this.#results, kinds);
  }

  /** Starts the operation; returns its id at once. */
  launch<O extends BaseOutcome>(plan: OperationPlan<O>): string {
    return this.#start(plan).wid;
  }

  /**
   * An operation as a call, for the engine's own callers (the OAR restore): runs the plan and
   * resolves with one outcome per node. Aborting `signal` cancels it (its nodes end cancelled, with
   * their statistics rows); an already aborted signal starts nothing.
   */
  async run<O extends BaseOutcome>(plan: OperationPlan<O>, signal?: AbortSignal): Promise<O[]> {
    signal?.throwIfAborted();
    const live = this.#start(plan);
    const onAbort = () => this.#cancel(live, String(signal?.reason ?? 'aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return (await live.done) as O[];
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #start(plan: OperationPlan<BaseOutcome>): Live {
    this.#prune();
    const { kind } = plan;
    const wid = `${kind.prefix}-${randomUUID()}`;
    const log = new OperationLog(plan.nodes);
    const controller = new AbortController();
    const onShutdown = () => controller.abort(new Error('server shutting down'));
    this.ctx.signal.addEventListener('abort', onShutdown, { once: true });
    this.ctx.store.transaction(() => {
      this.ctx.store.workflows.insert({
        wid,
        kind: kind.name,
        user: plan.user,
        status: 'running',
        request: plan.request,
      });
      if (plan.runningState)
        for (const n of plan.nodes)
          this.ctx.store.nodes.update(n, { state: plan.runningState, user: plan.user, wid });
    });
    log.line(0, `${kind.title} #${wid} started`);
    for (const w of plan.warnings ?? []) log.line(1, `Warning: ${w}`);
    if (plan.discarded.length > 0)
      log.line(
        0,
        `The nodes ${plan.discarded.join(', ')} are already involved in ${kind.busyWith}, let's discard them`,
      );
    const live: Live = {
      wid,
      plan,
      log,
      startedAt: Date.now(),
      controller,
      status: 'running',
      done: Promise.resolve([]),
    };
    const unregister = this.ctx.operations.register({
      wid,
      kind: kind.name,
      user: plan.user,
      nodes: plan.nodes,
      cancel: (reason) => this.#cancel(live, reason),
    });
    this.#live.set(wid, live);
    live.done = this.#drive(live).finally(() => {
      unregister();
      this.ctx.signal.removeEventListener('abort', onShutdown);
    });
    return live;
  }

  async #drive(live: Live): Promise<BaseOutcome[]> {
    const { plan, wid, log, controller } = live;
    const logger = this.ctx.logger.child({ workflow: wid });
    let outcomes: BaseOutcome[] = [];
    try {
      outcomes = await plan.run({ wid, log, signal: controller.signal, logger });
      live.status = controller.signal.aborted ? 'cancelled' : 'done';
    } catch (e) {
      logger.error({ err: e }, `${plan.kind.noun} failed`);
      live.error = { code: e instanceof KaployError ? e.code : 'KAPLOY_INTERNAL', message: errorMessage(e) };
      live.status = 'failed';
      log.line(0, `${plan.kind.title} #${wid} failed: ${errorMessage(e)}`);
    }
    const seen = new Set(outcomes.map((o) => o.node));
    for (const node of plan.nodes) {
      if (seen.has(node)) continue;
      outcomes.push(
        plan.kind.unfinished(
          node,
          {
            status: controller.signal.aborted ? 'cancelled' : 'ko',
            reason: live.error?.message ?? 'no result',
            durationMs: Date.now() - live.startedAt,
          },
          plan.request,
        ),
      );
    }
    this.#finish(live, outcomes);
    return outcomes;
  }

  #finish(live: Live, outcomes: BaseOutcome[]): void {
    const { plan, wid, log } = live;
    live.outcomes = outcomes;
    live.finishedAt = Date.now();
    try {
      const rows = plan.kind.statsRows(outcomes, {
        wid,
        user: plan.user,
        startMs: live.startedAt,
        env: plan.env,
        anonymous: plan.anonymous ?? false,
        md5: plan.md5 ?? '',
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
    } catch (e) {
      // Nothing of the end was written (one transaction): the row stays unfinished and the next
      // start settles it as interrupted. The nodes' outcomes are still what happened to them, so
      // readers and run()'s caller get them, with the operation failed.
      this.ctx.logger.error({ err: e, workflow: wid }, 'the end of the operation could not be recorded');
      live.status = 'failed';
      live.error = {
        code: 'KAPLOY_INTERNAL',
        message: `the end of the operation could not be recorded: ${errorMessage(e)}`,
      };
      log.line(0, `${plan.kind.title} #${wid} failed: ${live.error.message}`);
    }
    const ok = outcomes.filter((o) => o.status === 'ok').length;
    const stopped = outcomes.filter((o) => o.status === 'breakpoint').length;
    // Nodes held at the breakpoint asked for are neither OK nor failed: the line says where they are
    // (Kadeploy: "Breakpoint reached for ..."), so "0/1 nodes OK" never reads as a failure.
    const held = stopped > 0 ? `, ${stopped} stopped at the breakpoint` : '';
    log.line(0, `${plan.kind.title} #${wid} done (${ok}/${outcomes.length} nodes OK${held})`);
    log.finish(outcomes.map((o) => [o.node, plan.kind.view(o)]));
  }

  /** Asks the work to stop (the abort reason is `reason`); the log says `<title> #<wid> <said>`. */
  #cancel(live: Live, reason: string, said = `cancelled: ${reason}`): void {
    if (live.log.done) return;
    live.log.line(0, `${live.plan.kind.title} #${live.wid} ${said}`);
    live.controller.abort(new Error(reason));
  }

  #prune(): void {
    const now = Date.now();
    for (const [wid, l] of this.#live)
      if (l.finishedAt && now - l.finishedAt > KEEP_MS) this.#live.delete(wid);
  }

  /** The live record of `wid` when it is of this kind and the caller's (or the caller is an admin). */
  #get(caller: AuthenticatedUser, kind: AnyKind, wid: string): Live | undefined {
    const l = this.#live.get(wid);
    if (!l || l.plan.kind.name !== kind.name) return undefined;
    return l.plan.user === caller.name || caller.admin ? l : undefined;
  }

  #view(l: Live): OperationStatus {
    const { plan } = l;
    return {
      wid: l.wid,
      kind: plan.kind.name,
      user: plan.user,
      status: l.status,
      ...(plan.env ? { environment: plan.env } : {}),
      startedAt: l.startedAt,
      ...(l.finishedAt ? { finishedAt: l.finishedAt } : {}),
      nodes: Object.fromEntries(l.log.nodes),
      ...(l.outcomes ? { outcomes: l.outcomes.map((o) => plan.kind.toApi(o)) } : {}),
      ...(l.error ? { error: l.error } : {}),
    };
  }

  status(caller: AuthenticatedUser, kind: AnyKind, wid: string): OperationStatus {
    const l = this.#get(caller, kind, wid);
    if (l) return this.#view(l);
    // Pruned, or finished before a restart: the workflow row and the stored outcomes.
    const row = this.ctx.store.workflows.get(wid);
    if (row?.kind !== kind.name || (row.user !== caller.name && !caller.admin))
      throw notFound('KAPLOY_INVALID_WORKFLOW_ID', `no ${kind.noun} ${wid}`);
    const res = this.#results.get(wid);
    return {
      wid,
      kind: kind.name,
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
      ...(res ? { outcomes: res.outcomes.map((o) => kind.toApi(o)) } : {}),
      ...(res?.error ? { error: res.error } : {}),
    };
  }

  logs(caller: AuthenticatedUser, kind: AnyKind, wid: string, q: LogQuery): LogPage {
    const l = this.#get(caller, kind, wid);
    if (!l) {
      this.status(caller, kind, wid); // 404 when unknown; one from before a restart has no log kept
      return { lines: [], next: q.from, done: true };
    }
    const page = l.log.read(q.from, q.verbosity, q.debug || l.plan.debug);
    return { ...page, done: l.log.done && page.next >= l.log.entries.length };
  }

  /**
   * `logs` as a long poll: with no line for this reader yet, waits up to `waitMs` for one (or the
   * end), so the client hears of the end of an operation at once rather than at its next poll.
   */
  logsWait(
    caller: AuthenticatedUser,
    kind: AnyKind,
    wid: string,
    q: LogQuery & { waitMs: number },
    signal: AbortSignal,
  ): Promise<LogPage> {
    return longPollLog(
      (from) => this.logs(caller, kind, wid, { ...q, from }),
      () => this.#get(caller, kind, wid)?.log,
      q.from,
      q.waitMs,
      signal,
    );
  }

  cancel(caller: AuthenticatedUser, kind: AnyKind, wid: string): void {
    const l = this.#get(caller, kind, wid);
    if (!l) throw notFound('KAPLOY_INVALID_WORKFLOW_ID', `no running ${kind.noun} ${wid}`);
    const by = `cancelled by ${caller.name}`;
    this.#cancel(l, by, by);
  }

  /** The caller's operations of this kind the engine holds (running ones only, unless the kind lists finished ones). */
  list(caller: AuthenticatedUser, kind: AnyKind): OperationStatus[] {
    return [...this.#live.values()]
      .filter((l) => (kind.listsFinished || !l.finishedAt) && this.#get(caller, kind, l.wid))
      .map((l) => this.#view(l));
  }

  /** The per-node outcomes of an operation once known (live, or stored), else undefined. */
  outcomes(wid: string): BaseOutcome[] | undefined {
    return this.#live.get(wid)?.outcomes ?? this.#results.get(wid)?.outcomes;
  }

  /** Resolves when every operation started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.#live.values()].map((l) => l.done));
  }
}
