import type { FastifyPluginAsync } from 'fastify';
import { POWER_REQUEST_SCHEMA, type PowerRequest } from '../../api/power-request.js';
import { REBOOT_REQUEST_SCHEMA, type RebootRequest } from '../../api/reboot-request.js';
import type { EngineContext } from '../server/context.js';
import { nodeOpsServices, startPower, startReboot } from './nodeops-services.js';
import { consoleRoutes } from './routes-console.js';
import { operationReadRoutes } from './routes-operation.js';

/**
 * Reboots (/reboot), power (/power), consoles (/console) and the running operations of every kind
 * (/operations, for kanodes3). One plugin so the engine registers it with one line.
 */
export const nodeOpsRoutes: FastifyPluginAsync<{ ctx: EngineContext }> = async (app, { ctx }) => {
  const svc = () => nodeOpsServices(ctx);
  // Created at registration so operations a crashed engine left unfinished are settled at start.
  svc();

  app.post<{ Body: RebootRequest }>(
    '/reboot',
    { schema: { body: REBOOT_REQUEST_SCHEMA }, bodyLimit: 1024 * 1024 },
    async (request, reply) => {
      const { wid, discarded } = startReboot(ctx, request.user, request.body);
      return reply.code(201).send({ wid, discarded });
    },
  );
  operationReadRoutes(app, ctx, 'reboot', () => svc().reboots);

  app.put<{ Body: PowerRequest }>(
    '/power',
    { schema: { body: POWER_REQUEST_SCHEMA } },
    async (request, reply) => {
      const { wid, discarded } = startPower(ctx, request.user, request.body);
      return reply.code(201).send({ wid, discarded });
    },
  );
  operationReadRoutes(app, ctx, 'power', () => svc().powers);

  consoleRoutes(app, () => svc().consoles);

  // Every running operation, every user's (kanodes3 shows what each node is doing): ids, kinds,
  // owners and nodes only; details through /<op>/:wid for the owner.
  app.get('/operations', async () =>
    ctx.operations.list().map((o) => ({ wid: o.wid, kind: o.kind, user: o.user, nodes: o.nodes })),
  );
};
