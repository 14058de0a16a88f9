import type { FastifyPluginAsync } from 'fastify';
import { DEPLOY_REQUEST_SCHEMA, type DeployRequest } from '../../api/deploy-request.js';
import { KaployError } from '../../common/errors.js';
import { printDescription } from '../../formats/environment/print.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { NodeStepDeps } from '../nodeops/node-step-env.js';
import type { EngineContext } from '../server/context.js';
import { notFound } from '../server/http-errors.js';
import { requestSignal } from '../server/request-signal.js';
import { createStepExecutor } from '../steps/index.js';
import type { ResumePoint } from '../workflow/breakpoint.js';
import { resumePointOf } from '../workflow/resume-point.js';
import { runWorkflow } from '../workflow/runner.js';
import type { NodeOutcome } from '../workflow/types.js';
import { DEPLOY } from './deploy-kind.js';
import type { EngineServices } from './engine-services.js';
import type { OperationPlan } from './operation-kind.js';
import { operationRoutes, widParams } from './operation-routes.js';
import type { OperationService, Preparation } from './operation-service.js';
import { describeSteps, type PreparedDeployment, prepareDeployment } from './prepare-deployment.js';

// POST /deployment and what it starts, in one file: the route makes the plan (planDeployment),
// the operation service launches it, and the plan's run is one runWorkflow per cluster.

/**
 * /deployment: the routes of every operation kind (start — `?dry_run=true` checks everything and
 * touches nothing —, list, status, logs, cancel), and POST /deployment/:wid/resume (a deployment
 * stopped at its breakpoint goes on, as a new one).
 */
export const deploymentRoutes =
  (s: EngineServices): FastifyPluginAsync<{ ctx: EngineContext }> =>
  async (app, { ctx }) => {
    operationRoutes<DeployRequest, NodeOutcome>(app, ctx, () => s.operations, {
      kind: DEPLOY,
      path: '/deployment',
      method: 'POST',
      body: DEPLOY_REQUEST_SCHEMA,
      bodyLimit: 4 * 1024 * 1024,
      plan: (caller, body, signal, prep) =>
        planDeployment(ctx, s.deps, caller, body, signal, undefined, prep),
      dryRun: async (caller, body, signal) => {
        const p = await prepareDeployment(ctx, caller, body, signal);
        return {
          environment: `${p.env.name}:${p.env.version}`,
          description: printDescription(p.env),
          nodes: p.parts.flatMap((x) => x.nodes.map((n) => n.name)),
          discarded: p.discarded,
          steps: describeSteps(p),
          warnings: p.warnings,
        };
      },
    });

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

function deploymentPlan(
  ctx: EngineContext,
  deps: NodeStepDeps,
  prepared: PreparedDeployment,
  resumeFrom?: ResumePoint,
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
      const perCluster = await Promise.all(
        prepared.parts.map((part) => {
          const executor = createStepExecutor(
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
            executor,
            signal: r.signal,
            logger: r.logger,
            ...(req.breakpoint ? { breakpoint: req.breakpoint } : {}),
            ...(resumeFrom ? { resumeFrom } : {}),
            onEvent: (ev) => {
              r.log.event(ev);
              ctx.metrics?.steps.event(part.cluster.name, ev);
            },
          });
        }),
      ).finally(unpin);
      return perCluster.flat();
    },
    settle: (o) => {
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
