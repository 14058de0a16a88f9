import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { KaployError } from '../../common/errors.js';
import type { EngineContext } from '../server/context.js';
import type { EngineService } from '../server/start.js';
import type { EngineMetrics } from './engine-metrics.js';

const DESCRIPTION =
  'The engine’s metrics in the Prometheus text format (docs/metrics.md). On the engine’s listener, site administrators only; with `metrics.listen` they are served on that address instead, without authentication.';

async function scrape(metrics: EngineMetrics): Promise<{ type: string; body: string }> {
  return { type: metrics.contentType, body: await metrics.text() };
}

/**
 * GET /metrics on the engine's own listener, for site administrators (the engine's listener is
 * reachable by every user of the site, and the engine authenticates every request: a scraper uses
 * an admin token, `authorization: {credentials_file: ...}` in Prometheus). Served when the site
 * enables metrics without a listener of their own.
 */
export function metricsRoutes(metrics: EngineMetrics): FastifyPluginAsync<{ ctx: EngineContext }> {
  return async (app) => {
    app.get(
      '/metrics',
      { schema: { summary: 'Prometheus metrics', description: DESCRIPTION } },
      async (request, reply) => {
        if (!request.user.admin)
          throw new KaployError(
            'KAPLOY_RIGHTS',
            'only site administrators can read the engine metrics: scrape with an admin token, or serve them on an admin address (metrics.listen, docs/metrics.md)',
          );
        const s = await scrape(metrics);
        return reply.type(s.type).send(s.body);
      },
    );
  };
}

/** Where each engine's own metrics listener answers, once it listens (tests, logs). */
const urls = new WeakMap<EngineContext, string>();

/** The URL of `/metrics` on the engine's own metrics listener, when it has one. */
export function metricsListenerUrl(ctx: EngineContext): string | undefined {
  return urls.get(ctx);
}

/**
 * `metrics.listen`: a listener of its own serving only GET /metrics, without authentication, as
 * node_exporter does: the address it is bound to (an admin network, loopback for a local agent) is
 * its access control. Anything else is 404. Started and stopped with the engine; a listen failure
 * fails the engine's start.
 */
export function metricsListenerServices(ctx: EngineContext, metrics: EngineMetrics): EngineService[] {
  const listen = ctx.config.metrics?.enabled ? ctx.config.metrics.listen : undefined;
  if (!listen) return [];
  let app: FastifyInstance | undefined;
  return [
    {
      plugin: async () => {
        app = Fastify({ loggerInstance: ctx.logger.child({ part: 'metrics' }) as FastifyBaseLogger });
        app.get('/metrics', async (_request, reply) => {
          const s = await scrape(metrics);
          return reply.type(s.type).send(s.body);
        });
        await app.listen({ host: listen.host, port: listen.port });
        const addr = app.server.address() as AddressInfo;
        const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
        urls.set(ctx, `http://${host}:${addr.port}/metrics`);
        ctx.logger.info({ url: urls.get(ctx) }, 'metrics listening');
      },
      async stop() {
        urls.delete(ctx);
        await app?.close();
      },
    },
  ];
}
