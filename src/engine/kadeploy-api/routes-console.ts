import type { FastifyInstance } from 'fastify';
import { KaployError } from '../../common/errors.js';
import { CONSOLE_OPEN_SCHEMA } from '../nodeops/routes-console.js';
import { plainAddress, sourceAddress } from './auth.js';
import type { KadeployConsoles } from './console-channels.js';
import { assertNative, mergedParams, optString, refuseUnknown } from './params.js';

const WID = {
  type: 'object',
  required: ['wid'],
  properties: { wid: { type: 'string', maxLength: 64 } },
} as const;

/**
 * Kadeploy 3.3's console resources (doc/api/console.api): POST /console {node} answers the id and
 * `resources {resource, error, console: tcp://host:port}`; GET /console and /console/:wid the
 * consoles' `id, user, node, error, attached, console_uri, time`; GET /console/:wid/error why it
 * closed (text); DELETE /console/:wid closes it and answers `{wid}`. Over kaploy's console service,
 * so the rights and the refusals are the native console's.
 */
export function consoleRoutes(app: FastifyInstance, consoles: KadeployConsoles, prefix: string): void {
  app.post('/console', async (request) => {
    const p = mergedParams(request.query, request.body);
    refuseUnknown(p, ['node', 'user']);
    if (p.user !== undefined && p.user !== request.user.name)
      throw new KaployError(
        'KAPLOY_AUTH',
        `Authentication failed: user ${String(p.user)} is not the authenticated user`,
      );
    const node = optString(p, 'node', 255);
    if (node === undefined) throw new KaployError('KAPLOY_MISSING_OPTION', 'node is missing');
    assertNative(CONSOLE_OPEN_SCHEMA, { node });
    const local = plainAddress(request.socket.localAddress);
    const opened = await consoles.open(request.user, node, {
      peer: sourceAddress(request),
      local,
      hostname: request.hostname,
    });
    const at = `${prefix}/console/${opened.wid}`;
    return { wid: opened.wid, resources: { resource: at, error: `${at}/error`, console: opened.uri } };
  });
  app.get('/console', async (request) => consoles.list(request.user));
  type P = { Params: { wid: string } };
  app.get<P>('/console/:wid', { schema: { params: WID } }, async (request) =>
    consoles.get(request.user, request.params.wid),
  );
  app.get<P>('/console/:wid/error', { schema: { params: WID } }, async (request, reply) =>
    reply.type('text/plain; charset=utf-8').send(consoles.error(request.user, request.params.wid)),
  );
  app.delete<P>('/console/:wid', { schema: { params: WID } }, async (request) =>
    consoles.delete(request.user, request.params.wid),
  );
  app.addHook('onClose', async () => consoles.closeAll());
}
