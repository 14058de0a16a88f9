import { randomUUID } from 'node:crypto';
import type { LogPage, OperationStatus } from '../../api/operation-status.js';
import { errorMessage, KaployError } from '../../common/errors.js';
import { nodeIndex } from '../../common/site-config.js';
import { recordStats } from '../../stats/record-stats.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import { operationOutcome } from '../metrics/operation-metrics.js';
import type { EngineContext } from '../server/context.js';
import { notFound } from '../server/http-errors.js';
import { AdmissionQueue } from './admission.js';
import { enterAdmission } from './admission-wait.js';
import { longPollLog } from './log-long-poll.js';
import type { BaseOutcome, OperationPlan, PlanKind } from './operation-kind.js';
import { OperationLog } from './operation-log.js';
import { LOG_GENERATION, type Resumers, type Resumption, recoverInterrupted } from './operation-recovery.js';
import { OperationResults } from './operation-results.js';

type AnyKind = PlanKind<BaseOutcome>;

interface Live {
  wid: string;
  /** While preparing: a stand-in made of what the checks told at detach (kind, user, nodes). */
  plan: OperationPlan<BaseOutcome>;
  /** Whether its nodes were given to it (running state, statistics): false while preparing. */
  touched: boolean;
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

/** What is known of an operation when its checks let the caller go before they end. */
export interface PreparingHead {
  /** The nodes asked for (known, the caller's rights checked). */
  nodes: string[];
  /** Stored as the workflow's request (crash recovery reads its `nodes`). */
  request: object;
  debug: boolean;
}

/**
 * What the checks of an operation get while they run (OperationService.prepare): its id and log
 * from the start, so what they do (image downloads) is in the log as it happens, and `detach`,
 * which answers the caller with the id before the checks end.
 */
export interface Preparation {
  wid: string;
  signal: AbortSignal;
  line(level: number, text: string): void;
  /**
   * The checks will take long (an image download): the operation is listed and followed from now
   * on, in status `preparing`, and a refusal from now on fails it with its code instead of
   * rejecting the caller's request (see docs/decisions/0027-live-preparation.md). Once only.
   */
  detach(head: PreparingHead): void;
}

/** Finished operations stay readable this long (Kadeploy keeps them 360 min). */
const KEEP_MS = 360 * 60_000;

/**
 * The life of every operation with per-node outcomes (deployments, reboots, power), whatever its
 * kind: the workflow row, registration in ctx.operations (so revoking rights or a shutdown cancels
 * it), node states while it runs and once each node's outcome is known, the live record and its
 * log (read at the reader's verbosity, as a long poll), cancel, one statistics row per node
 * whatever the outcome, the final outcomes (operation_results), and, for operations an engine
 * crash left unfinished, their resumption (running), their place in the queue again (queued) or
 * their settling (the others). What differs between kinds is only the plan: its checks and its
 * per-node work (planDeployment, planReboot, planPower).
 */
export class OperationService {
  readonly #live = new Map<string, Live>();
  readonly #results: OperationResults;
  /** Node -> cluster, for the per-node metrics (the site's nodes do not change while it runs). */
  readonly #clusters: Map<string, string>;
  /** The site-wide bound on operations and nodes in flight (admission.ts); no bound when unset. */
  readonly #admission: AdmissionQueue;

  /**
   * `kinds`: the kinds whose interrupted operations are settled now (at engine start), or resumed
   * when `resumers` has one for their kind (durable workflows, operation-recovery.ts).
   */
  constructor(
    private readonly ctx: EngineContext,
    kinds: readonly AnyKind[],
    resumers: Resumers = {},
  ) {
    this.#results = new OperationResults(ctx.store.db);
    this.#clusters = new Map([...nodeIndex(ctx.config)].map(([n, c]) => [n, c.cluster]));
    this.#admission = new AdmissionQueue(ctx.config.admission ?? { maxOperations: 0, maxNodes: 0 });
    recoverInterrupted(
      ctx,
      this.#results,
      kinds,
      resumers,
      (r) => this.#resume(r),
      (r) => this.#requeue(r),
    );
  }

  // --- durable workflows (docs/decisions/0033-durable-workflows.md) ---
  /**
   * An operation of an earlier engine live again under its id, before its plan is made again: a
   * stand-in plan from its stored request (no run; `settle` says what its nodes become if it ends
   * before the real plan exists), its log's next generation, every node waiting.
   */
  #liveAgain(r: Resumption, settle: OperationPlan<BaseOutcome>['settle']) {
    const standIn: OperationPlan<BaseOutcome> = {
      kind: r.kind,
      user: r.user,
      nodes: r.nodes,
      request: r.request,
      env: '',
      discarded: [],
      debug: false,
      run: async () => [],
      settle,
    };
    const log = new OperationLog([], this.ctx.store.progress.resumed(r.wid) * LOG_GENERATION);
    const live = this.#newLive(standIn, { wid: r.wid, log, controller: new AbortController() });
    live.startedAt = r.created;
    for (const n of r.nodes) log.nodes.set(n, { state: 'waiting' });
    return { live, standIn };
  }

  /**
   * An operation an engine restart interrupted, live again under its id at once (followed, its
   * nodes registered); its plan, made again from its stored request, starts it where its nodes
   * were; a refusal of its checks ends it failed, its nodes in the kind's failed state.
   */
  #resume(r: Resumption): void {
    const { kind, wid } = r;
    const { live } = this.#liveAgain(r, (o) =>
      this.ctx.store.nodes.get(o.node)?.wid === wid ? { state: kind.failedState } : undefined,
    );
    live.touched = true;
    // Admitted before the restart: counted in flight again, over the bound if need be.
    this.#admission.adopt(wid, r.nodes.length);
    const attached = this.#attach(live);
    const { signal } = live.controller;
    const start = async (): Promise<BaseOutcome[]> => {
      try {
        const plan = await r.plan(signal);
        signal.throwIfAborted();
        this.#begin(live, plan);
        attached.reregister();
      } catch (e) {
        return this.#drive(live, () => Promise.reject(e));
      }
      return this.#drive(live);
    };
    live.done = start().finally(attached.detach);
  }

  /**
   * An operation that was waiting for admission when the engine stopped (decision 0037): live
   * again under its id, `queued` at its place (called in the queue's order, after the running ones
   * were adopted), no node touched; when its turn comes, its plan is made again (its checks, as
   * its owner's, on the nodes they kept) and it starts. Cancelled while it waits, it ends cancelled.
   */
  #requeue(r: Resumption): void {
    const { wid } = r;
    const { live, standIn } = this.#liveAgain(r, () => undefined);
    const queued = enterAdmission(this.ctx, this.#admission, live, standIn, true);
    const attached = this.#attach(live);
    const { signal } = live.controller;
    const start = async (): Promise<BaseOutcome[]> => {
      try {
        if (queued) await queued;
        else
          this.ctx.store.transaction(() => {
            this.ctx.store.workflows.setStatus(wid, 'running', false);
            this.ctx.store.progress.dequeue(wid);
          });
        live.status = 'preparing';
        const plan = await r.plan(signal);
        signal.throwIfAborted();
        this.#keepExtras(wid, plan);
        this.#begin(live, plan);
        attached.reregister();
      } catch (e) {
        return this.#drive(live, () => Promise.reject(e));
      }
      return this.#drive(live);
    };
    live.done = start().finally(attached.detach);
  }

  /** Keeps what a resumption needs that the stored request leaves out (plan.extras). */
  #keepExtras(wid: string, plan: OperationPlan<BaseOutcome>): void {
    if (plan.extras) this.ctx.store.progress.keep(wid, JSON.stringify(plan.extras));
  }
  // --- end of durable workflows ---

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
    // Its caller waits in this engine's memory: a restart settles it, the caller runs it again.
    const live = this.#start(plan, undefined, true);
    const onAbort = () => this.#cancel(live, String(signal?.reason ?? 'aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return (await live.done) as O[];
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Runs the checks of an operation (`checks`, which make its plan) with its log already open, then
   * starts it; resolves with its id. A refusal of the checks rejects, nothing recorded, unless they
   * detached first (a long image download): then the caller has the id already, the operation
   * shows `preparing` while they go on, and a refusal ends it failed with the refusal's code, before
   * any node is touched. `signal` (the request's) stops the checks until they detach; from then
   * on cancelling the operation (or the engine's shutdown) does.
   */
  prepare<O extends BaseOutcome>(
    kind: PlanKind<O>,
    user: string,
    checks: (p: Preparation) => Promise<OperationPlan<O>>,
    signal: AbortSignal,
  ): Promise<{ wid: string; discarded: string[] }> {
    const wid = `${kind.prefix}-${randomUUID()}`;
    const log = new OperationLog([]);
    log.line(0, `${kind.title} #${wid} started`);
    const controller = new AbortController();
    const onRequestAbort = () => controller.abort(signal.reason);
    if (signal.aborted) onRequestAbort();
    else signal.addEventListener('abort', onRequestAbort, { once: true });
    // Checks and image downloads can take minutes before any node is touched: counted meanwhile.
    const counted = this.ctx.metrics?.operations.preparing(kind.name);
    return new Promise((resolve, reject) => {
      let detached: { ready(plan: OperationPlan<BaseOutcome>): void; fail(e: unknown): void } | undefined;
      let over = false;
      const p: Preparation = {
        wid,
        signal: controller.signal,
        line: (level, text) => log.line(level, text),
        detach: (head) => {
          if (detached || over) return;
          signal.removeEventListener('abort', onRequestAbort);
          detached = this.#detach(kind as AnyKind, user, head, { wid, log, controller });
          resolve({ wid, discarded: [] });
        },
      };
      checks(p)
        .finally(() => {
          over = true;
          counted?.();
          signal.removeEventListener('abort', onRequestAbort);
        })
        .then(
          (plan) => {
            if (detached) return detached.ready(plan as OperationPlan<BaseOutcome>);
            resolve({ wid: this.#start(plan, { wid, log, controller }).wid, discarded: plan.discarded });
          },
          (e) => (detached ? detached.fail(e) : reject(e)),
        )
        .catch((e) => {
          // The start itself failed (the store): the caller hears it if it still waits.
          this.ctx.logger.error({ err: e, workflow: wid }, `the ${kind.noun} could not be started`);
          reject(e);
        });
    });
  }

  /** A new live record: its id, log (first line: started) and controller, or those of its checks. */
  #newLive(
    plan: OperationPlan<BaseOutcome>,
    pre?: { wid: string; log: OperationLog; controller: AbortController },
  ): Live {
    this.#prune();
    const { kind } = plan;
    const wid = pre?.wid ?? `${kind.prefix}-${randomUUID()}`;
    const log = pre?.log ?? new OperationLog([]);
    if (!pre) log.line(0, `${kind.title} #${wid} started`);
    return {
      wid,
      plan,
      touched: false,
      log,
      startedAt: Date.now(),
      controller: pre?.controller ?? new AbortController(),
      status: 'running',
      done: Promise.resolve([]),
    };
  }

  /**
   * Makes the record live: readable, cancelled by a shutdown, registered in ctx.operations with
   * its nodes (so revoking rights cancels it). Returns how to register its nodes again (once its
   * plan left busy nodes out) and how to undo it all at its end.
   */
  #attach(live: Live): { reregister(): void; detach(): void } {
    const onShutdown = () => live.controller.abort(new Error('server shutting down'));
    this.ctx.signal.addEventListener('abort', onShutdown, { once: true });
    const register = () =>
      this.ctx.operations.register({
        wid: live.wid,
        kind: live.plan.kind.name,
        user: live.plan.user,
        nodes: live.plan.nodes,
        cancel: (reason) => this.#cancel(live, reason),
      });
    let unregister = register();
    this.#live.set(live.wid, live);
    return {
      reregister: () => {
        unregister();
        unregister = register();
      },
      detach: () => {
        unregister();
        this.ctx.signal.removeEventListener('abort', onShutdown);
        this.#admission.release(live.wid);
      },
    };
  }

  /** The plan takes its nodes: their running state, the metrics, the first lines of its log. */
  #begin(live: Live, plan: OperationPlan<BaseOutcome>): void {
    const { kind } = plan;
    live.plan = plan;
    live.status = 'running';
    live.touched = true;
    if (plan.runningState)
      this.ctx.store.transaction(() => {
        for (const n of plan.nodes)
          this.ctx.store.nodes.update(n, {
            state: plan.runningState as string,
            user: plan.user,
            wid: live.wid,
          });
      });
    live.log.nodes.clear();
    for (const n of plan.nodes) live.log.nodes.set(n, { state: 'waiting' });
    this.ctx.metrics?.operations.started(kind.name, plan.nodes.length);
    const { log } = live;
    for (const w of plan.warnings ?? []) log.line(1, `Warning: ${w}`);
    for (const n of plan.notes ?? []) log.line(3, n);
    if (plan.discarded.length > 0)
      log.line(
        0,
        `The nodes ${plan.discarded.join(', ')} are already involved in ${kind.busyWith}, let's discard them`,
      );
  }

  #start(
    plan: OperationPlan<BaseOutcome>,
    pre?: { wid: string; log: OperationLog; controller: AbortController },
    byCall = false,
  ): Live {
    const live = this.#newLive(plan, pre);
    this.ctx.store.transaction(() => {
      this.ctx.store.workflows.insert({
        wid: live.wid,
        kind: plan.kind.name,
        user: plan.user,
        status: 'running',
        request: plan.request,
      });
      this.#keepExtras(live.wid, plan);
      if (byCall) this.ctx.store.progress.markByCall(live.wid);
    });
    const queued = enterAdmission(this.ctx, this.#admission, live, plan);
    if (!queued) this.#begin(live, plan);
    const attached = this.#attach(live);
    live.done = (queued ? this.#admitted(live, plan, queued) : this.#drive(live)).finally(attached.detach);
    return live;
  }

  /**
   * The operation's start once admission control lets it (queued: admission-wait.ts): its nodes
   * taken, then its work. Cancelled while it waited (or the engine stopped), it ends cancelled,
   * no node touched.
   */
  #admitted(live: Live, plan: OperationPlan<BaseOutcome>, queued: Promise<void>): Promise<BaseOutcome[]> {
    return queued.then(
      () => {
        try {
          this.#begin(live, plan);
        } catch (e) {
          return this.#drive(live, () => Promise.reject(e));
        }
        return this.#drive(live);
      },
      (e) => this.#drive(live, () => Promise.reject(e)),
    );
  }

  /**
   * The record of an operation whose checks go on after its caller got its id: `preparing`, with
   * the nodes asked for and no node touched; `ready` starts its plan, `fail` ends it failed (or
   * cancelled) with the refusal's code.
   */
  #detach(
    kind: AnyKind,
    user: string,
    head: PreparingHead,
    pre: { wid: string; log: OperationLog; controller: AbortController },
  ): { ready(plan: OperationPlan<BaseOutcome>): void; fail(e: unknown): void } {
    const standIn: OperationPlan<BaseOutcome> = {
      kind,
      user,
      nodes: head.nodes,
      request: head.request,
      env: '',
      discarded: [],
      debug: head.debug,
      run: async () => [],
      settle: () => undefined,
    };
    const live = this.#newLive(standIn, pre);
    live.status = 'preparing';
    for (const n of head.nodes) live.log.nodes.set(n, { state: 'waiting' });
    this.ctx.store.workflows.insert({
      wid: live.wid,
      kind: kind.name,
      user,
      status: 'preparing',
      request: head.request,
    });
    const attached = this.#attach(live);
    let settle: (o: BaseOutcome[]) => void = () => {};
    live.done = new Promise<BaseOutcome[]>((r) => {
      settle = r;
    }).finally(attached.detach);
    const go = (work?: () => Promise<BaseOutcome[]>) => this.#drive(live, work).then(settle);
    return {
      ready: (plan) => {
        if (live.controller.signal.aborted)
          return void go(() => Promise.reject(live.controller.signal.reason));
        this.ctx.store.workflows.setStatus(live.wid, 'running', false);
        this.#keepExtras(live.wid, plan);
        const queued = enterAdmission(this.ctx, this.#admission, live, plan);
        if (queued) {
          attached.reregister();
          return void this.#admitted(live, plan, queued).then(settle);
        }
        this.#begin(live, plan);
        attached.reregister();
        void go();
      },
      fail: (e) => void go(() => Promise.reject(e)),
    };
  }

  /** Runs the work (the plan's, or a preparation's refusal) and ends the operation with it. */
  async #drive(live: Live, work?: () => Promise<BaseOutcome[]>): Promise<BaseOutcome[]> {
    const { plan, wid, log, controller } = live;
    const logger = this.ctx.logger.child({ workflow: wid });
    let outcomes: BaseOutcome[] = [];
    let stopped: string | undefined;
    try {
      outcomes = await (work ?? (() => plan.run({ wid, log, signal: controller.signal, logger })))();
      live.status = controller.signal.aborted ? 'cancelled' : 'done';
    } catch (e) {
      // Checks stopped by a cancel (or the shutdown) while preparing: cancelled, said once already.
      if (!live.touched && controller.signal.aborted) {
        stopped = errorMessage(controller.signal.reason);
        live.status = 'cancelled';
      } else {
        logger.error({ err: e }, `${plan.kind.noun} failed`);
        live.error = {
          code: e instanceof KaployError ? e.code : 'KAPLOY_INTERNAL',
          message: errorMessage(e),
        };
        live.status = 'failed';
        log.line(0, `${plan.kind.title} #${wid} failed: ${errorMessage(e)}`);
      }
    }
    const seen = new Set(outcomes.map((o) => o.node));
    for (const node of plan.nodes) {
      if (seen.has(node)) continue;
      outcomes.push(
        plan.kind.unfinished(
          node,
          {
            status: controller.signal.aborted ? 'cancelled' : 'ko',
            reason: live.error?.message ?? stopped ?? 'no result',
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
      // Checks refused while preparing touched no node: no statistics row, no node state (as a
      // refusal answered to the request).
      const rows = !live.touched
        ? []
        : plan.kind.statsRows(outcomes, {
            wid,
            user: plan.user,
            startMs: live.startedAt,
            env: plan.env,
            anonymous: plan.anonymous ?? false,
            md5: plan.md5 ?? '',
          });
      this.ctx.store.transaction(() => {
        for (const o of live.touched ? outcomes : []) {
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
    if (live.touched) this.#count(live, outcomes);
    const ok = outcomes.filter((o) => o.status === 'ok').length;
    const stopped = outcomes.filter((o) => o.status === 'breakpoint');
    const at = stopped[0] as (BaseOutcome & { impl?: string; micro?: string }) | undefined;
    // Stopped at --breakpoint is not "done": said as such, with how to go on.
    log.line(
      0,
      at
        ? `${plan.kind.title} #${wid} stopped at its breakpoint before ${at.impl}-${at.micro} (${stopped.length}/${outcomes.length} nodes stopped, ${ok} OK, ${outcomes.length - ok - stopped.length} KO); kadeploy3 --resume ${wid} goes on`
        : `${plan.kind.title} #${wid} done (${ok}/${outcomes.length} nodes OK)`,
    );
    log.finish(outcomes.map((o) => [o.node, plan.kind.view(o)]));
  }

  /** The operation's end in the metrics: each node's outcome, then the operation's. */
  #count(live: Live, outcomes: readonly BaseOutcome[]): void {
    const m = this.ctx.metrics?.operations;
    if (!m) return;
    const { kind } = live.plan;
    for (const o of outcomes)
      m.nodeEnded(kind.name, this.#clusters.get(o.node) ?? 'unknown', {
        status: o.status,
        ...(o.reason ? { reason: o.reason } : {}),
        step: kind.view(o).macro ?? '',
      });
    const outcome = operationOutcome(
      outcomes.map((o) => o.status),
      live.status === 'failed',
      live.controller.signal.aborted,
    );
    m.ended(kind.name, live.plan.nodes.length, outcome);
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
      ...(l.status === 'queued' ? { queuePosition: this.#admission.position(l.wid) ?? 1 } : {}),
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
    return { ...page, done: l.log.done && page.next >= l.log.end };
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

  /**
   * Resolves at the next change of a running operation the caller may read (a log entry, a node's
   * step, its end), after `ms` at the latest or when `signal` aborts; at once when it is not running.
   * Lets a live view (the dashboard's event stream) follow the nodes' steps, not only the log lines.
   */
  changed(
    caller: AuthenticatedUser,
    kind: AnyKind,
    wid: string,
    ms: number,
    signal: AbortSignal,
  ): Promise<void> {
    const l = this.#get(caller, kind, wid);
    return l && !l.log.done ? l.log.changed(ms, signal) : Promise.resolve();
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

  /** The 1-based place of an operation in the admission queue, undefined when it does not wait. */
  queuePosition(wid: string): number | undefined {
    return this.#admission.position(wid);
  }

  /** Resolves when every operation started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.#live.values()].map((l) => l.done));
  }
}
