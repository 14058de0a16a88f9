import type { FastifyPluginAsync } from 'fastify';
import { DEPLOY_REQUEST_SCHEMA, type DeployRequest } from '../../api/deploy-request.js';
import { printDescription } from '../../formats/environment/print.js';
import type { EngineContext } from '../server/context.js';
import { requestSignal } from '../server/request-signal.js';
import type { NodeOutcome } from '../workflow/types.js';
import { DEPLOY } from './deploy-kind.js';
import { planDeployment, planResume } from './deployment-plan.js';
import type { EngineServices } from './engine-services.js';
import { operationRoutes, widParams } from './operation-routes.js';
import { describeSteps, prepareDeployment } from './prepare-deployment.js';

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
      plan: (caller, body, signal) => planDeployment(ctx, s.deps, caller, body, signal),
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
