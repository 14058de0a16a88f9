import type { FastifyPluginAsync } from 'fastify';
import { DEPLOY_REQUEST_SCHEMA, type DeployRequest } from '../../api/deploy-request.js';
import { printDescription } from '../../formats/environment/print.js';
import type { EngineContext } from '../server/context.js';
import { requestSignal } from '../server/request-signal.js';
import { engineServices } from './engine-services.js';
import { describeSteps } from './prepare-deployment.js';

const WID = {
  type: 'object',
  required: ['wid'],
  properties: { wid: { type: 'string', pattern: '^D-[0-9a-f-]{36}$' } },
} as const;

/**
 * /deployment: start (POST, `?dry_run=true` checks everything and touches nothing), status, logs
 * (rendered at the reader's verbosity), cancel (DELETE), resume a stopped one (POST .../resume).
 */
export const deploymentRoutes: FastifyPluginAsync<{ ctx: EngineContext }> = async (app, { ctx }) => {
  const svc = () => engineServices(ctx).deployments;
  // Created at registration so interrupted workflows of a previous run are settled at start.
  svc();

  app.post<{ Body: DeployRequest; Querystring: { dry_run?: boolean } }>(
    '/deployment',
    {
      schema: {
        body: DEPLOY_REQUEST_SCHEMA,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { dry_run: { type: 'boolean' } },
        },
      },
      bodyLimit: 4 * 1024 * 1024,
    },
    async (request, reply) => {
      if (request.query.dry_run) {
        const p = await svc().dryRun(request.user, request.body);
        return {
          environment: `${p.env.name}:${p.env.version}`,
          description: printDescription(p.env),
          nodes: p.parts.flatMap((x) => x.nodes.map((n) => n.name)),
          discarded: p.discarded,
          steps: describeSteps(p),
          warnings: p.warnings,
        };
      }
      const res = await svc().start(request.user, request.body);
      return reply.code(201).send(res);
    },
  );

  app.get('/deployment', async (request) => svc().list(request.user));

  app.get<{ Params: { wid: string } }>('/deployment/:wid', { schema: { params: WID } }, async (request) =>
    svc().status(request.user, request.params.wid),
  );

  app.get<{
    Params: { wid: string };
    Querystring: { from?: number; verbosity?: number; debug?: boolean; wait_ms?: number };
  }>(
    '/deployment/:wid/logs',
    {
      schema: {
        params: WID,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'integer', minimum: 0 },
            verbosity: { type: 'integer', minimum: 0, maximum: 5 },
            debug: { type: 'boolean' },
            // Long poll: with no new line yet, answer at the next one (or the end) within this.
            wait_ms: { type: 'integer', minimum: 0, maximum: 30000 },
          },
        },
      },
    },
    async (request, reply) =>
      svc().logsWait(
        request.user,
        request.params.wid,
        request.query.from ?? 0,
        request.query.verbosity ?? 3,
        request.query.debug === true,
        request.query.wait_ms ?? 0,
        requestSignal(ctx, reply),
      ),
  );

  app.delete<{ Params: { wid: string } }>(
    '/deployment/:wid',
    { schema: { params: WID } },
    async (request) => {
      svc().cancel(request.user, request.params.wid);
      return { cancelled: request.params.wid };
    },
  );

  app.post<{ Params: { wid: string } }>(
    '/deployment/:wid/resume',
    { schema: { params: WID } },
    async (request, reply) => {
      const res = await svc().resume(request.user, request.params.wid);
      return reply.code(201).send(res);
    },
  );
};
