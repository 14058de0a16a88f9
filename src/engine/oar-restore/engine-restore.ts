import { clusterOf, nodeIndex } from '../../common/site-config.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import { planReboot } from '../nodeops/index.js';
import { planDeployment } from '../operations/deployment.js';
import type { EngineServices } from '../operations/engine-services.js';
import type { BaseOutcome } from '../operations/operation-kind.js';
import type { EngineContext } from '../server/context.js';
import { type GroupStepRunner, restorePlan, runGroupRestorePlan, type StepOutcome } from './restore-plan.js';
import type { RestoreGroupFn } from './restore-worker.js';

/**
 * The engine's restore of a group of nodes after deploy jobs, wired to the engine's own services.
 * Per node, restorePlan: a reboot onto the recorded production environment (kareboot3 -r
 * recorded_env -c: refused when the user's last environment is destructive) and, if the node does
 * not come up in production that way, a full redeployment of the production environment on its
 * partition. Per cluster of the group (its own production partition, timeouts and commands), the
 * steps are operations on several nodes: ONE reboot for the nodes that only need one, ONE
 * deployment (one image broadcast) for those whose last environment is destructive (run beside
 * the reboot) and ONE for those whose reboot failed. Each node's result is reported as soon as its
 * operation ends. Acts as the site's production user with admin rights (site config `production`).
 */
export function engineRestoreGroup(ctx: EngineContext, services: EngineServices): RestoreGroupFn {
  const actor: AuthenticatedUser = { name: ctx.config.production.user, admin: true };
  const index = nodeIndex(ctx.config);
  return async (group, { signal, report }) => {
    const { operations, deps } = services;
    const env = {
      name: group.production || ctx.config.production.environment,
      user: ctx.config.production.user,
    };
    const byCluster = new Map<string, string[]>();
    for (const { node } of group.nodes) {
      const cfg = index.get(node);
      if (!cfg) {
        report(node, { ok: false, reason: `unknown node ${node} on site ${ctx.config.site}` });
        continue;
      }
      const same = byCluster.get(cfg.cluster) ?? [];
      same.push(node);
      byCluster.set(cfg.cluster, same);
    }
    await Promise.all(
      [...byCluster].map(async ([cluster, nodes]) => {
        const partition = clusterOf(ctx.config, cluster).partitioning.prod;
        const reboot: GroupStepRunner = async (ns, sig) => {
          const plan = planReboot(ctx, deps, actor, {
            kind: 'recorded_env',
            nodes: [...ns],
            environment: env,
            partition,
            checkDestructive: true,
            force: true,
          });
          return outcomesOf(await operations.run(plan, sig));
        };
        const deploy: GroupStepRunner = async (ns, sig) => {
          const plan = await planDeployment(
            ctx,
            deps,
            actor,
            { nodes: [...ns], environment: { kind: 'recorded', ...env }, partition, force: true },
            sig,
          );
          return outcomesOf(await operations.run(plan, sig));
        };
        await runGroupRestorePlan(
          nodes.map((node) => {
            const row = ctx.store.nodes.get(node);
            return {
              node,
              plan: restorePlan(
                row ? { state: row.state, env: row.env, destructive: row.destructive } : undefined,
              ),
            };
          }),
          { reboot, deploy },
          signal,
          (ns, r) => report(ns, r.ok ? { ok: true } : r),
        );
      }),
    );
  };
}

function outcomesOf(outs: readonly BaseOutcome[]): Map<string, StepOutcome> {
  return new Map(
    outs.map((o) => [
      o.node,
      o.status === 'ok' ? { ok: true } : { ok: false, reason: o.reason ?? `ended ${o.status}` },
    ]),
  );
}
