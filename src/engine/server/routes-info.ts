import type { FastifyPluginAsync } from 'fastify';
import { KAPLOY_VERSION } from '../../common/version.js';
import type { EngineContext } from './context.js';

/** GET /version, /info, /clusters. */
export const infoRoutes: FastifyPluginAsync<{ ctx: EngineContext }> = async (app, { ctx }) => {
  app.get('/version', async () => ({ version: KAPLOY_VERSION, site: ctx.config.site }));

  app.get('/info', async (request) => ({
    version: KAPLOY_VERSION,
    site: ctx.config.site,
    user: request.user.name,
    admin: request.user.admin,
    clusters: ctx.config.clusters.map((c) => c.name),
    // Clients leave absolute paths under these to the engine instead of uploading them.
    image_dirs: ctx.config.imageDirs,
    production: ctx.config.production,
  }));

  app.get('/clusters', async () =>
    ctx.config.clusters.map((c) => ({
      name: c.name,
      nodes: c.nodes.map((n) => n.name),
      partitioning: c.partitioning,
      automata: c.automata,
      timeouts: c.timeouts,
    })),
  );
};
