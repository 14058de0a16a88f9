import type { FastifyInstance } from 'fastify';
import { authenticate } from '../auth/authenticate.js';
import { isDashboardUrl } from '../ui/ui-paths.js';
import type { EngineContext } from './context.js';
import './request-user.js';

/** Authenticates every API request by its bearer header, before routing, including unknown routes. */
export function installAuthHook(app: FastifyInstance, ctx: EngineContext): void {
  app.decorateRequest('user', undefined as never);
  app.addHook('onRequest', async (request) => {
    // The dashboard authenticates its own requests by session cookie (src/engine/ui/session-hook.ts).
    if (isDashboardUrl(request.url)) return;
    request.user = authenticate(ctx.store, ctx.config, request.headers.authorization);
  });
}
