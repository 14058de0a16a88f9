import type { FastifyInstance } from 'fastify';
import type { NodeOpService } from './node-op-service.js';

/**
 * GET /<op> (running ones), GET /<op>/:wid (status), GET /<op>/:wid/logs (at the reader's
 * verbosity), DELETE /<op>/:wid (cancel): the same shapes as /deployment, which
 * src/deploy/client/kadeploy.ts `follow` reads.
 */
export function operationReadRoutes(
  app: FastifyInstance,
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

  app.get<{ Params: { wid: string }; Querystring: { from?: number; verbosity?: number; debug?: boolean } }>(
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
          },
        },
      },
    },
    async (request) =>
      svc().logs(
        request.user,
        request.params.wid,
        request.query.from ?? 0,
        request.query.verbosity ?? 3,
        request.query.debug === true,
      ),
  );

  app.delete<{ Params: { wid: string } }>(`/${base}/:wid`, { schema: { params } }, async (request) => {
    svc().cancel(request.user, request.params.wid);
    return { cancelled: request.params.wid };
  });
}
