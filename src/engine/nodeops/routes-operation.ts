import type { FastifyInstance } from 'fastify';
import type { EngineContext } from '../server/context.js';
import { requestSignal } from '../server/request-signal.js';
import type { NodeOpService } from './node-op-service.js';

/**
 * GET /<op> (running ones), GET /<op>/:wid (status), GET /<op>/:wid/logs (at the reader's
 * verbosity; `wait_ms` makes it a long poll, as on /deployment), DELETE /<op>/:wid (cancel): the same shapes as /deployment, which
 * src/client/deploy/kadeploy.ts `follow` reads.
 */
export function operationReadRoutes(
  app: FastifyInstance,
  ctx: EngineContext,
  base: 'reboot' | 'power',
  svc: () => NodeOpService,
): void {
  const params = {
    type: 'object',
    required: ['wid'],
    properties: { wid: { type: 'string', pattern: `^${base === 'reboot' ? 'R' : 'P'}-[0-9a-f-]{36}$` } },
  } as const;

  app.get(`/${base}`, async (request) => svc().list(request.user));

  app.get<{ Params: { wid: string } }>(`/${base}/:wid`, { schema: { params } }, async (request) =>
    svc().status(request.user, request.params.wid),
  );

  app.get<{
    Params: { wid: string };
    Querystring: { from?: number; verbosity?: number; debug?: boolean; wait_ms?: number };
  }>(
    `/${base}/:wid/logs`,
    {
      schema: {
        params,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'integer', minimum: 0 },
            verbosity: { type: 'integer', minimum: 0, maximum: 5 },
            debug: { type: 'boolean' },
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

  app.delete<{ Params: { wid: string } }>(`/${base}/:wid`, { schema: { params } }, async (request) => {
    svc().cancel(request.user, request.params.wid);
    return { cancelled: request.params.wid };
  });
}
