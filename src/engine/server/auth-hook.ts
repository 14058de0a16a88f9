import type { FastifyInstance } from 'fastify';
import { authenticate } from '../auth/authenticate.js';
import type { EngineContext } from './context.js';
import './request-user.js';

/** Authenticates every request, before routing, including unknown routes. */
export function installAuthHook(app: FastifyInstance, ctx: EngineContext): void {
  app.decorateRequest('user', undefined as never);
  app.addHook('onRequest', async (request) => {
    request.user = authenticate(ctx.store, ctx.config, request.headers.authorization);
  });
}
