import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { EngineServices } from '../operations/engine-services.js';
import type { EngineContext } from '../server/context.js';
import type { EngineService } from '../server/start.js';
import { buildKadeployApp } from './app.js';

/** Where each engine's Kadeploy-compatible listener answers, once it listens (tests, logs). */
const urls = new WeakMap<EngineContext, string>();

/** The listener's URL (path root included) of a running engine, when it has one. */
export function kadeployApiUrl(ctx: EngineContext): string | undefined {
  return urls.get(ctx);
}

/**
 * The Kadeploy-compatible listener as an engine service: started with the engine when the site
 * configuration enables it (`kadeploy_api`), on its own port, over the same context and services
 * as the engine's routes; a listen failure fails the engine's start. Stopped before the store closes.
 */
export function kadeployApiServices(ctx: EngineContext, services: EngineServices): EngineService[] {
  const api = ctx.config.kadeployApi;
  if (!api?.enabled) return [];
  let app: FastifyInstance | undefined;
  return [
    {
      plugin: async () => {
        app = await buildKadeployApp(ctx, api, () => services);
        await app.listen({ port: api.port, host: api.host });
        const addr = app.server.address() as AddressInfo;
        const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
        urls.set(ctx, `${ctx.tls ? 'https' : 'http'}://${host}:${addr.port}${api.prefix}`);
        ctx.logger.info({ url: urls.get(ctx) }, 'Kadeploy-compatible API listening');
      },
      async stop() {
        urls.delete(ctx);
        await app?.close();
      },
    },
  ];
}
