import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { NODE_PATTERN, PARTITION_PATTERN, USER_PATTERN } from '../../api/schemas.js';
import { KaployError } from '../../common/errors.js';
import { addRights, listRights, removeRights } from '../rights/rights-service.js';
import { assertSiteNodes } from '../rights/validate.js';
import type { EngineContext } from './context.js';

// Checked before the node names, so a non-admin learns nothing about the site's nodes.
function requireAdmin(request: FastifyRequest): void {
  if (!request.user.admin)
    throw new KaployError('KAPLOY_RIGHTS', 'only site administrators can change rights (karights3 -a/-d)');
}

/** /rights: list (own rights, or anyone's for admins), grant and revoke (admins only). */
export const rightsRoutes: FastifyPluginAsync<{ ctx: EngineContext }> = async (app, { ctx }) => {
  const nodes = {
    type: 'array',
    minItems: 1,
    maxItems: 100000,
    items: { type: 'string', pattern: NODE_PATTERN },
  } as const;
  const partitions = {
    type: 'array',
    minItems: 1,
    maxItems: 64,
    items: { type: 'string', pattern: PARTITION_PATTERN },
  } as const;

  app.get<{ Querystring: { user?: string; node?: string[] } }>(
    '/rights',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { user: { type: 'string', pattern: USER_PATTERN }, node: nodes },
        },
      },
    },
    async (request) => {
      const q = request.query;
      return listRights(ctx, request.user, {
        ...(q.user !== undefined ? { user: q.user } : {}),
        ...(q.node !== undefined ? { nodes: assertSiteNodes(ctx.config, q.node) } : {}),
      });
    },
  );

  // The OAR job a grant is for, or whose end a revocation is (the server hooks send it).
  const job = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;

  app.post<{
    Body: { user: string; nodes: string[]; partitions: string[]; overwrite?: boolean; job?: number };
  }>(
    '/rights',
    {
      schema: {
        body: {
          type: 'object',
          required: ['user', 'nodes', 'partitions'],
          additionalProperties: false,
          properties: {
            user: { type: 'string', pattern: USER_PATTERN },
            nodes,
            partitions,
            overwrite: { type: 'boolean' },
            job,
          },
        },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const b = request.body;
      const res = addRights(ctx, request.user, {
        user: b.user,
        nodes: assertSiteNodes(ctx.config, b.nodes),
        partitions: b.partitions,
        overwrite: b.overwrite === true,
        ...(b.job !== undefined ? { job: b.job } : {}),
      });
      return reply.code(201).send(res);
    },
  );

  app.delete<{ Body: { user: string; nodes: string[]; partitions?: string[]; job?: number } }>(
    '/rights',
    {
      schema: {
        body: {
          type: 'object',
          required: ['user', 'nodes'],
          additionalProperties: false,
          properties: { user: { type: 'string', pattern: USER_PATTERN }, nodes, partitions, job },
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const b = request.body;
      return removeRights(ctx, request.user, {
        user: b.user,
        nodes: assertSiteNodes(ctx.config, b.nodes),
        ...(b.partitions ? { partitions: b.partitions } : {}),
        ...(b.job !== undefined ? { upToJob: b.job } : {}),
      });
    },
  );
};
