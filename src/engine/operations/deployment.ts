import type { FastifyPluginAsync } from 'fastify';
import { DEPLOY_REQUEST_SCHEMA, type DeployRequest } from '../../api/deploy-request.js';
import { KaployError } from '../../common/errors.js';
import { printDescription } from '../../formats/environment/print.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { NodeStepDeps } from '../nodeops/node-step-env.js';
import type { EngineContext } from '../server/context.js';
import { notFound } from '../server/http-errors.js';
import { requestSignal } from '../server/request-signal.js';
import { createStepTable } from '../steps/index.js';
import type { ResumePoint } from '../workflow/breakpoint.js';
import type { RecoveredNode } from '../workflow/journal.js';
import { resumePointOf } from '../workflow/resume-point.js';
import { runWorkflow } from '../workflow/runner.js';
import type { NodeOutcome } from '../workflow/types.js';
import { DEPLOY } from './deploy-kind.js';
import type { EngineServices } from './engine-services.js';
import type { OperationPlan } from './operation-kind.js';
import { DRY_RUN_QUERY, operationFollowRoutes, widParams } from './operation-routes.js';
import type { OperationService, Preparation } from './operation-service.js';
import { deploymentPreemption, wasPreempted } from './preemption.js';
import { describeSteps, type PreparedDeployment, prepareDeployment } from './prepare-deployment.js';
import { ProgressJournal } from './progress-journal.js';

// POST /deployment and what it starts, in one file: the route's handler makes the plan
// (planDeployment) and has the operation service launch it; the plan's run is one runWorkflow per
// cluster. The handler is this file's own (not operationRoutes') so the walk from kadeploy3 to a
// node's command opens one file here (docs/architecture.md, "The spine").

/**
 * /deployment: POST starts one (`?dry_run=true` checks everything and touches nothing), the routes
 * every operation kind has (list, status, logs, cancel), and POST /deployment/:wid/resume (a
 * deployment stopped at its breakpoint goes on, as a new one).
 */
export const deploymentRoutes =
  (s: EngineServices): FastifyPluginAsync<{ ctx: EngineContext }> =>
  async (app, { ctx }) => {
    app.post<{ Body: DeployRequest; Querystring: { dry_run?: boolean } }>(
      '/deployment',
      { schema: { body: DEPLOY_REQUEST_SCHEMA, querystring: DRY_RUN_QUERY }, bodyLimit: 4 * 1024 * 1024 },
      async (request, reply) => {
        const signal = requestSignal(ctx, reply);
        if (request.query.dry_run) return dryRun(ctx, request.user, request.body, signal);
        // The checks run with the operation's log open: a long image download answers with the wid
        // before it ends, and the client follows its progress in the log (decision 0027).
        const started = await s.operations.prepare(
          DEPLOY,
          request.user.name,
          (prep) => planDeployment(ctx, s.deps, request.user, request.body, prep.signal, undefined, prep),
          signal,
        );
        return reply.code(201).send(started);
      },
    );
    operationFollowRoutes<NodeOutcome>(app, ctx, () => s.operations, { kind: DEPLOY, path: '/deployment' });

    app.post<{ Params: { wid: string } }>(
      '/deployment/:wid/resume',
      { schema: { params: widParams(DEPLOY) } },
      async (request, reply) => {
        const { operations, deps } = s;
        const plan = await planResume(
          ctx,
          deps,
          operations,
          request.user,
          request.params.wid,
          requestSignal(ctx, reply),
        );
        return reply.code(201).send({ wid: operations.launch(plan) });
      },
    );
  };

/** `?dry_run=true`: what the deployment would do, everything checked, no node touched. */
async function dryRun(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  body: DeployRequest,
  signal: AbortSignal,
) {
  const p = await prepareDeployment(ctx, caller, body, signal);
  return {
    environment: `${p.env.name}:${p.env.version}`,
    description: printDescription(p.env),
    nodes: p.parts.flatMap((x) => x.nodes.map((n) => n.name)),
    discarded: p.discarded,
    steps: describeSteps(p),
    warnings: p.warnings,
  };
}

/**
 * A deployment as an operation: everything checked (prepareDeployment) before a node is touched,
 * then one workflow per cluster with the real micro-steps; `resumeFrom` starts the nodes where a
 * breakpoint stopped them.
 */
export async function planDeployment(
  ctx: EngineContext,
  deps: NodeStepDeps,
  caller: AuthenticatedUser,
  req: DeployRequest,
  signal?: AbortSignal,
  resumeFrom?: ResumePoint,
  prep?: Preparation,
): Promise<OperationPlan<NodeOutcome>> {
  return deploymentPlan(ctx, deps, await prepareDeployment(ctx, caller, req, signal, prep), resumeFrom);
}

/**
 * The plan of a prepared deployment; `recovered`: the progress of its nodes an engine restart
 * interrupted (deployment-recovery.ts), each node going on from there.
 */
export function deploymentPlan(
  ctx: EngineContext,
  deps: NodeStepDeps,
  prepared: PreparedDeployment,
  resumeFrom?: ResumePoint,
  recovered?: ReadonlyMap<string, RecoveredNode>,
): OperationPlan<NodeOutcome> {
  const { env, request: req } = prepared;
  const envName = `${env.name}:${env.version}`;
  const envUser = env.user ?? prepared.user;
  // A node given the site's production environment runs production again (kanodes3: prod_env).
  const prod = ctx.config.production;
  const isProduction = env.name === prod.environment && envUser === prod.user;
  return {
    kind: DEPLOY,
    user: prepared.user,
    nodes: prepared.parts.flatMap((p) => p.nodes.map((n) => n.name)),
    request: req,
    env: envName,
    anonymous: prepared.anonymous,
    md5: prepared.envSpec.image.md5,
    discarded: prepared.discarded,
    warnings: prepared.warnings,
    notes: prepared.notes,
    runningState: 'deploying',
    debug: req.debug === true,
    run: async (r) => {
      // The image stays in the cache while the deployment runs (never evicted in use).
      const unpin = ctx.files.pin(prepared.envSpec.image.md5);
      // Each node's progress, durable: a restarted engine resumes it (decision 0033).
      ctx.store.progress.begin(r.wid, envName, prepared.envSpec.image.md5);
      const journal = new ProgressJournal(ctx.store.progress, r.wid, (e) =>
        r.logger.warn({ err: e }, 'could not record the progress of the deployment'),
      );
      // --force: the deployments running on these nodes lose them, and are told by whom.
      const preemption = deploymentPreemption(
        ctx,
        r,
        req.force
          ? { user: prepared.user, nodes: prepared.parts.flatMap((p) => p.nodes.map((n) => n.name)) }
          : undefined,
      );
      const perCluster = await Promise.all(
        prepared.parts.map((part) => {
          const steps = (deps.stepTable ?? createStepTable)(
            {
              wid: r.wid,
              user: prepared.user,
              site: ctx.config,
              nodes: part.nodes,
              env: prepared.envSpec,
              ...(req.partition ? { partition: req.partition } : {}),
              ...(req.keys ? { keys: req.keys } : {}),
              disableBootloaderInstall: req.disableBootloaderInstall === true,
              disableDiskPartitioning: req.disableDiskPartitioning === true,
              ...(req.reformatTmp ? { reformatTmp: req.reformatTmp } : {}),
              ...(req.vlan ? { vlan: req.vlan } : {}),
              ...(req.rebootClassicalTimeout ? { rebootClassicalTimeout: req.rebootClassicalTimeout } : {}),
              ...(req.rebootKexecTimeout ? { rebootKexecTimeout: req.rebootKexecTimeout } : {}),
              debug: req.debug === true,
            },
            {
              pool: deps.pool,
              logger: r.logger,
              ...(deps.tuning ? { tuning: deps.tuning } : {}),
              ...(ctx.metrics
                ? {
                    onBroadcastBytes: ctx.metrics.images.broadcast.bind(ctx.metrics.images),
                    onRebootQueue: (d: number) => ctx.metrics?.operations.queued('reboot', d),
                  }
                : {}),
            },
          );
          return runWorkflow({
            wid: r.wid,
            nodes: part.nodes.map((n) => n.name),
            plan: part.plan,
            options: part.options,
            steps: preemption.steps(steps),
            signal: r.signal,
            logger: r.logger,
            takenBy: preemption.takenBy,
            ...(req.breakpoint ? { breakpoint: req.breakpoint } : {}),
            ...(resumeFrom ? { resumeFrom } : {}),
            journal,
            ...(recovered
              ? {
                  recovered,
                  onResume: (step: string, nodes: readonly string[]) =>
                    r.log.line(0, `engine restarted; resuming from ${step} for ${nodes.length} nodes`),
                }
              : {}),
            onEvent: (ev) => {
              r.log.event(ev);
              ctx.metrics?.steps.event(part.cluster.name, ev);
            },
          });
        }),
      ).finally(() => {
        journal.flush();
        unpin();
      });
      return perCluster.flat();
    },
    settle: (o) => {
      // A node another deployment took (--force) is that one's now: its state is left to it.
      if (wasPreempted(o)) return undefined;
      if (o.status === 'ok')
        return {
          state: isProduction ? 'prod_env' : 'deployed',
          env: envName,
          env_user: envUser,
          destructive: env.destructive ? 1 : 0,
        };
      if (o.status === 'breakpoint') return { state: 'deploy_env' };
      return { state: o.status === 'cancelled' ? 'aborted' : 'deploy_failed' };
    },
  };
}

/**
 * The resumption of a deployment stopped at its breakpoint (kadeploy3 --resume): its stopped nodes,
 * as a new deployment of the same request without the breakpoint, from where they stopped.
 */
async function planResume(
  ctx: EngineContext,
  deps: NodeStepDeps,
  ops: OperationService,
  caller: AuthenticatedUser,
  wid: string,
  signal?: AbortSignal,
): Promise<OperationPlan<NodeOutcome>> {
  const row = ctx.store.workflows.get(wid);
  if (row?.kind !== DEPLOY.name || (row.user !== caller.name && !caller.admin)) {
    throw notFound('KAPLOY_INVALID_WORKFLOW_ID', `no deployment ${wid} of yours`);
  }
  const outcomes = (ops.outcomes(wid) ?? []) as NodeOutcome[];
  const stopped = outcomes.filter((o) => o.status === 'breakpoint');
  const point = stopped[0] ? resumePointOf(stopped[0]) : undefined;
  if (!point)
    throw new KaployError(
      'KAPLOY_NOTHING_MODIFIED',
      `the deployment ${wid} has no node stopped at a breakpoint`,
    );
  const { breakpoint: _bp, ...rest } = JSON.parse(row.request) as DeployRequest;
  const req: DeployRequest = { ...rest, nodes: stopped.map((o) => o.node), force: true };
  return planDeployment(ctx, deps, caller, req, signal, point);
}
