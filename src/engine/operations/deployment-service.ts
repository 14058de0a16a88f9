import { randomUUID } from 'node:crypto';
import type { DeployRequest } from '../../api/deploy-request.js';
import type { OperationStatus } from '../../api/operation-status.js';
import { errorMessage, KaployError } from '../../common/errors.js';
import { recordStats } from '../../stats/record-stats.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { EngineContext } from '../server/context.js';
import { notFound } from '../server/http-errors.js';
import { createStepExecutor, type NodeShell, type StepTuning } from '../steps/index.js';
import { resumePointOf } from '../workflow/resume-point.js';
import { runWorkflow } from '../workflow/runner.js';
import type { NodeOutcome } from '../workflow/types.js';
import { longPollLog } from './log-long-poll.js';
import { OperationLog } from './operation-log.js';
import { OperationResults, toApiOutcome } from './operation-results.js';
import { type PreparedDeployment, prepareDeployment } from './prepare-deployment.js';
import { statsRowsFromOutcomes } from './stats-rows.js';

export interface DeploymentDeps {
  pool: NodeShell;
  tuning?: Partial<StepTuning>;
  broadcast?: 'unicast' | 'chain' | 'kascade' | 'tree';
}

interface Live {
  wid: string;
  user: string;
  prepared: PreparedDeployment;
  log: OperationLog;
  startedAt: number;
  finishedAt?: number;
  controller: AbortController;
  outcomes?: NodeOutcome[];
  status: OperationStatus['status'];
  error?: { code: string; message: string };
  done: Promise<void>;
}

/** Finished operations stay readable this long (Kadeploy keeps them 360 min). */
const KEEP_MS = 360 * 60_000;

/**
 * Runs deployments in the engine: checks (prepareDeployment), records the workflow, drives the
 * nodes through the workflow runner with the real micro-steps, and writes node states and one
 * statistics row per node — also for failed and cancelled ones.
 */
export class DeploymentService {
  readonly #live = new Map<string, Live>();
  readonly #results: OperationResults;

  constructor(
    private readonly ctx: EngineContext,
    private readonly deps: DeploymentDeps,
  ) {
    this.#results = new OperationResults(ctx.store.db);
    this.recoverInterrupted();
  }

  /** An engine killed mid-deployment: its workflows end failed, their nodes deploy_failed, with stats. */
  recoverInterrupted(): void {
    for (const w of this.ctx.store.workflows.list({ kind: 'deploy', unfinished: true })) {
      let req: DeployRequest | undefined;
      try {
        req = JSON.parse(w.request) as DeployRequest;
      } catch {
        req = undefined;
      }
      const nodes = req?.nodes ?? [];
      const reason = 'the engine stopped during the deployment';
      const outcomes: NodeOutcome[] = nodes.map((node) => ({
        node,
        status: 'ko',
        reason,
        attempts: 0,
        durationMs: 0,
        steps: {},
      }));
      this.ctx.store.transaction(() => {
        for (const n of nodes) {
          const row = this.ctx.store.nodes.get(n);
          if (row?.wid === w.wid) this.ctx.store.nodes.update(n, { state: 'deploy_failed' });
        }
        recordStats(
          this.ctx.store.db,
          statsRowsFromOutcomes(outcomes, {
            wid: w.wid,
            user: w.user,
            startMs: w.created,
            env: '',
            anonymous: false,
            md5: '',
          }),
        );
        this.#results.save(w.wid, outcomes, { code: 'KAPLOY_INTERNAL', message: reason });
        this.ctx.store.workflows.setStatus(w.wid, 'failed', true);
      });
    }
  }

  async dryRun(
    caller: AuthenticatedUser,
    req: DeployRequest,
    signal?: AbortSignal,
  ): Promise<PreparedDeployment> {
    return prepareDeployment(this.ctx, caller, req, signal);
  }

  async start(
    caller: AuthenticatedUser,
    req: DeployRequest,
    signal?: AbortSignal,
  ): Promise<{ wid: string; discarded: string[] }> {
    const prepared = await prepareDeployment(this.ctx, caller, req, signal);
    return { wid: this.launch(prepared), discarded: prepared.discarded };
  }

  /** Resumes the nodes of a deployment stopped at its breakpoint, as a new workflow. */
  async resume(caller: AuthenticatedUser, wid: string, signal?: AbortSignal): Promise<{ wid: string }> {
    const row = this.ctx.store.workflows.get(wid);
    if (row?.kind !== 'deploy' || (row.user !== caller.name && !caller.admin)) {
      throw notFound('KAPLOY_INVALID_WORKFLOW_ID', `no deployment ${wid} of yours`);
    }
    const res = this.#live.get(wid)?.outcomes ?? this.#results.get(wid)?.outcomes;
    const stopped = (res ?? []).filter((o) => o.status === 'breakpoint');
    const point = stopped[0] ? resumePointOf(stopped[0]) : undefined;
    if (!point)
      throw new KaployError(
        'KAPLOY_NOTHING_MODIFIED',
        `the deployment ${wid} has no node stopped at a breakpoint`,
      );
    const orig = JSON.parse(row.request) as DeployRequest;
    const { breakpoint: _bp, ...rest } = orig;
    const req: DeployRequest = { ...rest, nodes: stopped.map((o) => o.node), force: true };
    const prepared = await prepareDeployment(this.ctx, caller, req, signal);
    return { wid: this.launch(prepared, point) };
  }

  #prune(): void {
    const now = Date.now();
    for (const [wid, l] of this.#live)
      if (l.finishedAt && now - l.finishedAt > KEEP_MS) this.#live.delete(wid);
  }

  launch(prepared: PreparedDeployment, resumeFrom?: ReturnType<typeof resumePointOf>): string {
    this.#prune();
    const wid = `D-${randomUUID()}`;
    const nodes = prepared.parts.flatMap((p) => p.nodes.map((n) => n.name));
    const log = new OperationLog(nodes);
    const controller = new AbortController();
    const onShutdown = () => controller.abort(new Error('server shutting down'));
    this.ctx.signal.addEventListener('abort', onShutdown, { once: true });
    const envName = `${prepared.env.name}:${prepared.env.version}`;
    this.ctx.store.transaction(() => {
      this.ctx.store.workflows.insert({
        wid,
        kind: 'deploy',
        user: prepared.user,
        status: 'running',
        request: prepared.request,
      });
      for (const n of nodes) this.ctx.store.nodes.update(n, { state: 'deploying', user: prepared.user, wid });
    });
    log.line(0, `Deployment #${wid} started`);
    for (const w of prepared.warnings) log.line(1, `Warning: ${w}`);
    if (prepared.discarded.length > 0) {
      log.line(
        0,
        `The nodes ${prepared.discarded.join(', ')} are already involved in deployment, let's discard them`,
      );
    }
    const live: Live = {
      wid,
      user: prepared.user,
      prepared,
      log,
      startedAt: Date.now(),
      controller,
      status: 'running',
      done: Promise.resolve(),
    };
    const unregister = this.ctx.operations.register({
      wid,
      kind: 'deploy',
      user: prepared.user,
      nodes,
      cancel: (reason) => {
        log.line(0, `Deployment #${wid} cancelled: ${reason}`);
        controller.abort(new Error(reason));
      },
    });
    live.done = this.#run(live, envName, resumeFrom).finally(() => {
      unregister();
      this.ctx.signal.removeEventListener('abort', onShutdown);
    });
    this.#live.set(wid, live);
    return wid;
  }

  async #run(live: Live, envName: string, resumeFrom?: ReturnType<typeof resumePointOf>): Promise<void> {
    const { prepared, log, wid } = live;
    const logger = this.ctx.logger.child({ workflow: wid });
    let outcomes: NodeOutcome[] = [];
    try {
      const perCluster = await Promise.all(
        prepared.parts.map((part) => {
          const executor = createStepExecutor(
            {
              wid,
              user: prepared.user,
              site: this.ctx.config,
              nodes: part.nodes,
              env: prepared.envSpec,
              ...(prepared.request.partition ? { partition: prepared.request.partition } : {}),
              ...(prepared.request.keys ? { keys: prepared.request.keys } : {}),
              disableBootloaderInstall: prepared.request.disableBootloaderInstall === true,
              disableDiskPartitioning: prepared.request.disableDiskPartitioning === true,
              ...(prepared.request.reformatTmp ? { reformatTmp: prepared.request.reformatTmp } : {}),
              ...(prepared.request.vlan ? { vlan: prepared.request.vlan } : {}),
              ...(prepared.request.rebootClassicalTimeout
                ? { rebootClassicalTimeout: prepared.request.rebootClassicalTimeout }
                : {}),
              ...(prepared.request.rebootKexecTimeout
                ? { rebootKexecTimeout: prepared.request.rebootKexecTimeout }
                : {}),
              debug: prepared.request.debug === true,
            },
            {
              pool: this.deps.pool,
              logger,
              ...(this.deps.tuning ? { tuning: this.deps.tuning } : {}),
              ...(this.deps.broadcast ? { broadcast: this.deps.broadcast } : {}),
            },
          );
          return runWorkflow({
            wid,
            nodes: part.nodes.map((n) => n.name),
            plan: part.plan,
            options: part.options,
            executor,
            signal: live.controller.signal,
            logger,
            ...(prepared.request.breakpoint ? { breakpoint: prepared.request.breakpoint } : {}),
            ...(resumeFrom ? { resumeFrom } : {}),
            onEvent: (ev) => log.event(ev),
          });
        }),
      );
      outcomes = perCluster.flat();
      live.status = live.controller.signal.aborted ? 'cancelled' : 'done';
    } catch (e) {
      logger.error({ err: e }, 'deployment failed');
      const code = e instanceof KaployError ? e.code : 'KAPLOY_INTERNAL';
      live.error = { code, message: errorMessage(e) };
      live.status = 'failed';
      log.line(0, `Deployment #${wid} failed: ${errorMessage(e)}`);
      const done = new Set(outcomes.map((o) => o.node));
      for (const n of live.log.nodes.keys()) {
        if (!done.has(n))
          outcomes.push({
            node: n,
            status: 'ko',
            reason: errorMessage(e),
            attempts: 0,
            durationMs: 0,
            steps: {},
          });
      }
    }
    this.#finish(live, outcomes, envName);
  }

  #finish(live: Live, outcomes: NodeOutcome[], envName: string): void {
    const { prepared, wid } = live;
    live.outcomes = outcomes;
    live.finishedAt = Date.now();
    const rows = statsRowsFromOutcomes(outcomes, {
      wid,
      user: prepared.user,
      startMs: live.startedAt,
      env: envName,
      anonymous: prepared.anonymous,
      md5: prepared.envSpec.image.md5,
    });
    // A node given the site's production environment runs production again (kanodes3: prod_env).
    const prod = this.ctx.config.production;
    const isProduction =
      prepared.env.name === prod.environment && (prepared.env.user ?? prepared.user) === prod.user;
    this.ctx.store.transaction(() => {
      for (const o of outcomes) {
        if (o.status === 'ok') {
          this.ctx.store.nodes.update(o.node, {
            state: isProduction ? 'prod_env' : 'deployed',
            env: envName,
            env_user: prepared.env.user ?? prepared.user,
            destructive: prepared.env.destructive ? 1 : 0,
          });
        } else if (o.status === 'breakpoint') {
          this.ctx.store.nodes.update(o.node, { state: 'deploy_env' });
        } else {
          this.ctx.store.nodes.update(o.node, {
            state: o.status === 'cancelled' ? 'aborted' : 'deploy_failed',
          });
        }
      }
      recordStats(this.ctx.store.db, rows);
      this.#results.save(wid, outcomes, live.error);
      this.ctx.store.workflows.setStatus(wid, live.status, true);
    });
    live.log.finish(outcomes);
    const ok = outcomes.filter((o) => o.status === 'ok').length;
    live.log.line(0, `Deployment #${wid} done (${ok}/${outcomes.length} nodes OK)`);
  }

  #get(caller: AuthenticatedUser, wid: string): Live | undefined {
    const l = this.#live.get(wid);
    if (l && l.user !== caller.name && !caller.admin) return undefined;
    return l;
  }

  status(caller: AuthenticatedUser, wid: string): OperationStatus {
    const l = this.#get(caller, wid);
    if (l) {
      return {
        wid,
        kind: 'deploy',
        user: l.user,
        status: l.status,
        environment: `${l.prepared.env.name}:${l.prepared.env.version}`,
        startedAt: l.startedAt,
        ...(l.finishedAt ? { finishedAt: l.finishedAt } : {}),
        nodes: Object.fromEntries(l.log.nodes),
        ...(l.outcomes ? { outcomes: l.outcomes.map(toApiOutcome) } : {}),
        ...(l.error ? { error: l.error } : {}),
      };
    }
    const row = this.ctx.store.workflows.get(wid);
    if (row?.kind !== 'deploy' || (row.user !== caller.name && !caller.admin)) {
      throw notFound('KAPLOY_INVALID_WORKFLOW_ID', `no deployment ${wid}`);
    }
    const res = this.#results.get(wid);
    return {
      wid,
      kind: 'deploy',
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

  logs(
    caller: AuthenticatedUser,
    wid: string,
    from: number,
    verbosity: number,
    debug: boolean,
  ): { lines: string[]; next: number; done: boolean } {
    const l = this.#get(caller, wid);
    if (!l) {
      // Finished before a restart: no log kept, but the status is.
      this.status(caller, wid);
      return { lines: [], next: from, done: true };
    }
    const page = l.log.read(from, verbosity, debug || l.prepared.request.debug === true);
    return { ...page, done: l.log.done && page.next >= l.log.entries.length };
  }

  /**
   * As logs, but waits up to `waitMs` for lines at this verbosity (or the end) when there are none
   * yet: the client hears of the end of a deployment at once rather than at its next poll.
   */
  async logsWait(
    caller: AuthenticatedUser,
    wid: string,
    from: number,
    verbosity: number,
    debug: boolean,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<{ lines: string[]; next: number; done: boolean }> {
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
    if (!l) throw notFound('KAPLOY_INVALID_WORKFLOW_ID', `no running deployment ${wid}`);
    if (!l.log.done) {
      l.log.line(0, `Deployment #${wid} cancelled by ${caller.name}`);
      l.controller.abort(new Error(`cancelled by ${caller.name}`));
    }
  }

  /** The outcomes of a deployment once it has finished (for the engine's own callers: the OAR restore). */
  async wait(wid: string): Promise<NodeOutcome[]> {
    const l = this.#live.get(wid);
    if (l) {
      await l.done;
      return l.outcomes ?? [];
    }
    return this.#results.get(wid)?.outcomes ?? [];
  }

  /** Resolves when every running deployment has finished (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.#live.values()].map((l) => l.done));
  }

  list(caller: AuthenticatedUser): OperationStatus[] {
    return [...this.#live.keys()].flatMap((wid) => {
      try {
        return [this.status(caller, wid)];
      } catch {
        return [];
      }
    });
  }
}
