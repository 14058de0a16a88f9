import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { installAuthHook } from './auth-hook.js';
import { limitedServerFactory } from './connection-limits.js';
import type { EngineContext } from './context.js';
import { clientErrorHandler, errorHandler } from './error-handler.js';
import { registerOpenApi } from './openapi-plugin.js';

export type EnginePlugin = FastifyPluginAsync<{ ctx: EngineContext }>;

/** Builds the fastify app: authentication on every request, the error format, the routes. */
export async function buildApp(
  ctx: EngineContext,
  plugins: readonly EnginePlugin[],
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    // Unknown properties are errors, not silently dropped (fastify's default removes them).
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
    // A URL that does not decode (`/files/%s%n`) is refused before routing: same error format.
    frameworkErrors: (error, request, reply) => errorHandler(error, request, reply),
    clientErrorHandler,
    bodyLimit: 1024 * 1024,
    // Connection limits per address and in all, a headers deadline (connection-limits.ts).
    serverFactory: limitedServerFactory(ctx.config.listen, ctx.logger, ctx.tls),
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      error: {
        code: 'KAPLOY_NOT_FOUND',
        appCode: 103,
        message: `no such API route: ${request.method} ${request.url}`,
        fields: {},
      },
    });
  });
  installAuthHook(app, ctx);
  // Before the routes: an app-level hook times every route registered after it.
  ctx.metrics?.http.install(app, 'engine');
  // Before the routes: it records each route added after it (GET /openapi.json).
  await registerOpenApi(app);
  for (const p of plugins) await app.register(p, { ctx });
  return app;
}
