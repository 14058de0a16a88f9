import { clusterOf, nodeIndex } from '../common/site-config.js';
import type { AuthenticatedUser } from '../deploy/auth/authenticate.js';
import { rebootNodes } from '../deploy/nodeops/index.js';
import { engineServices } from '../deploy/operations/engine-services.js';
import type { EngineContext } from '../deploy/server/context.js';
import { restorePlan, runRestorePlan, type StepOutcome } from './restore-plan.js';
import type { RestoreNodeFn } from './restore-worker.js';

/**
 * The engine's restore of one node after a deploy job, wired to the engine's own services:
 * per restorePlan, a reboot onto the recorded production environment (kareboot3 -r recorded_env
 * -c: refused when the user's last environment is destructive) and, if the node does not come up
 * in production that way, a full redeployment of the production environment on its partition.
 * Acts as the site's production user with admin rights (site config `production`).
 */
export function engineRestoreNode(ctx: EngineContext): RestoreNodeFn {
  const actor: AuthenticatedUser = { name: ctx.config.production.user, admin: true };
  return async (node, { production, signal }) => {
    const cfg = nodeIndex(ctx.config).get(node);
    if (!cfg) return { ok: false, reason: `unknown node ${node} on site ${ctx.config.site}` };
    const partition = clusterOf(ctx.config, cfg.cluster).partitioning.prod;
    const env = { name: production || ctx.config.production.environment, user: ctx.config.production.user };
    const row = ctx.store.nodes.get(node);
    const plan = restorePlan(
      row ? { state: row.state, env: row.env, destructive: row.destructive } : undefined,
    );
    const r = await runRestorePlan(
      plan,
      {
        reboot: async (sig): Promise<StepOutcome> => {
          const [o] = await rebootNodes(
            ctx,
            actor,
            {
              kind: 'recorded_env',
              nodes: [node],
              environment: env,
              partition,
              checkDestructive: true,
              force: true,
            },
            sig,
          );
          return o?.status === 'ok' ? { ok: true } : { ok: false, reason: o?.reason ?? 'no outcome' };
        },
        deploy: async (sig): Promise<StepOutcome> => {
          const svc = engineServices(ctx).deployments;
          const { wid } = await svc.start(actor, {
            nodes: [node],
            environment: { kind: 'recorded', ...env },
            partition,
            force: true,
          });
          const onAbort = () => svc.cancel(actor, wid);
          sig.addEventListener('abort', onAbort, { once: true });
          try {
            const [o] = await svc.wait(wid);
            return o?.status === 'ok' ? { ok: true } : { ok: false, reason: o?.reason ?? 'no outcome' };
          } finally {
            sig.removeEventListener('abort', onAbort);
          }
        },
      },
      signal,
    );
    return r.ok ? { ok: true } : r;
  };
}
