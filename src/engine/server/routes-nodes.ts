import type { FastifyPluginAsync } from 'fastify';
import { nodeIndex } from '../../common/site-config.js';
import { assertHostname } from '../../formats/node-names.js';
import type { EngineContext } from './context.js';
import { notFound } from './http-errors.js';

/** GET /nodes (state table, or names with ?list=true) and GET /nodes/:node. */
export const nodesRoutes: FastifyPluginAsync<{ ctx: EngineContext }> = async (app, { ctx }) => {
  const index = nodeIndex(ctx.config);

  app.get<{ Querystring: { list?: boolean; user?: string } }>(
    '/nodes',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { list: { type: 'boolean' }, user: { type: 'string', maxLength: 64 } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      if (request.query.list) return [...index.keys()];
      // Rows of nodes since removed from the configuration are kept in the store but not shown.
      return ctx.store.nodes
        .list()
        .filter((r) => index.has(r.name))
        .map((r) => ({ ...r, cluster: index.get(r.name)?.cluster ?? '' }));
    },
  );

  app.get<{ Params: { node: string } }>('/nodes/:node', async (request) => {
    const name = assertHostname(request.params.node);
    const row = ctx.store.nodes.get(name);
    const cfg = index.get(name);
    if (!row || !cfg)
      throw notFound('KAPLOY_NODE_LIST', `unknown node ${name} on site ${ctx.config.site}`, { node: name });
    return { ...row, cluster: cfg.cluster, address: cfg.address };
  });
};
