import type { FastifyPluginAsync } from 'fastify';
import { POWER_REQUEST_SCHEMA, type PowerRequest } from '../../api/power-request.js';
import { REBOOT_REQUEST_SCHEMA, type RebootRequest } from '../../api/reboot-request.js';
import type { EngineServices } from '../operations/engine-services.js';
import { operationRoutes } from '../operations/operation-routes.js';
import type { EngineContext } from '../server/context.js';
import type { NodeOpOutcome } from './node-op-outcome.js';
import { POWER, REBOOT } from './nodeop-kinds.js';
import { planPower } from './power-service.js';
import { planReboot } from './reboot-service.js';
import { consoleRoutes } from './routes-console.js';

/**
 * Reboots (/reboot) and power (/power) — the routes of every operation kind, with their own body
 * and plan —, consoles (/console) and the running operations of every kind (/operations, for
 * kanodes3). One plugin so the engine registers it with one line.
 */
export const nodeOpsRoutes =
  (s: EngineServices): FastifyPluginAsync<{ ctx: EngineContext }> =>
  async (app, { ctx }) => {
    operationRoutes<RebootRequest, NodeOpOutcome>(app, ctx, () => s.operations, {
      kind: REBOOT,
      path: '/reboot',
      method: 'POST',
      body: REBOOT_REQUEST_SCHEMA,
      bodyLimit: 1024 * 1024,
      plan: (caller, body) => planReboot(ctx, s.deps, caller, body),
    });

    operationRoutes<PowerRequest, NodeOpOutcome>(app, ctx, () => s.operations, {
      kind: POWER,
      path: '/power',
      method: 'PUT',
      body: POWER_REQUEST_SCHEMA,
      plan: (caller, body) => planPower(ctx, s.deps, caller, body),
    });

    consoleRoutes(app, () => s.consoles);

    // Every running operation, every user's (kanodes3 shows what each node is doing): ids, kinds,
    // owners, nodes and the place of one queued by admission control (`queued`, 1-based), so
    // everyone sees how long the queue is; details through /<op>/:wid for the owner.
    app.get('/operations', async () =>
      ctx.operations.list().map((o) => {
        const queued = s.operations.queuePosition(o.wid);
        return { wid: o.wid, kind: o.kind, user: o.user, nodes: o.nodes, ...(queued ? { queued } : {}) };
      }),
    );
  };
