import type { FastifyInstance } from 'fastify';
import type { ConsoleService } from './console-service.js';

const PARAMS = {
  type: 'object',
  required: ['wid'],
  properties: { wid: { type: 'string', pattern: '^C-[0-9a-f-]{36}$' } },
} as const;

/** POST /console's body; the Kadeploy listener checks its translated request against it too. */
export const CONSOLE_OPEN_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['node'],
  properties: { node: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9.-]+$' } },
} as const;

/**
 * Consoles as a pair of plain HTTP requests (no WebSocket, no upgrade, so the ordinary
 * authentication hook and error format apply): POST /console {node} opens a session; GET
 * /console/:wid/stream is its output as one long streamed response; POST /console/:wid/input
 * {data: base64} sends keystrokes, in order; DELETE /console/:wid closes it. The session also
 * closes when the stream's reader goes away.
 */
export function consoleRoutes(app: FastifyInstance, svc: () => ConsoleService): void {
  app.post<{ Body: { node: string } }>(
    '/console',
    { schema: { body: CONSOLE_OPEN_SCHEMA } },
    async (request, reply) => reply.code(201).send(svc().open(request.user, request.body.node)),
  );

  app.get('/console', async (request) => svc().list(request.user));

  app.get<{ Params: { wid: string } }>(
    '/console/:wid/stream',
    { schema: { params: PARAMS } },
    async (request, reply) => {
      const out = svc().attach(request.user, request.params.wid);
      reply.raw.once('close', () => {
        try {
          svc().close(request.user, request.params.wid, 'the client left');
        } catch {
          /* already closed */
        }
      });
      return reply.type('application/octet-stream').header('cache-control', 'no-store').send(out);
    },
  );

  app.post<{ Params: { wid: string }; Body: { data: string } }>(
    '/console/:wid/input',
    {
      schema: {
        params: PARAMS,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['data'],
          properties: { data: { type: 'string', maxLength: 87_384, pattern: '^[A-Za-z0-9+/]*={0,2}$' } },
        },
      },
    },
    async (request) => {
      const data = Buffer.from(request.body.data, 'base64');
      svc().input(request.user, request.params.wid, data);
      return { written: data.length };
    },
  );

  app.delete<{ Params: { wid: string } }>(
    '/console/:wid',
    { schema: { params: PARAMS } },
    async (request) => {
      svc().close(request.user, request.params.wid);
      return { closed: request.params.wid };
    },
  );
}
