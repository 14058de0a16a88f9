import { POWER_IMPL, type PowerRequest } from '../../api/power-request.js';
import { KaployError } from '../../common/errors.js';
import type { Resumer } from '../operations/operation-recovery.js';
import type { EngineContext } from '../server/context.js';
import type { NodeStepDeps } from './node-step-env.js';
import { planPower } from './power-service.js';

/**
 * Power operations an engine restart interrupted go on (durable workflows, docs/decisions/0033):
 * their one step (power on, off, status) is safe to run again, so each node still given to it runs
 * it again from its start, checked again as its owner's (rights); the log says so. A queued one
 * (decision 0037) is planned again on the nodes its checks kept when its turn comes.
 */
export function powerResumer(ctx: EngineContext, deps: NodeStepDeps): Resumer {
  return async (row, _signal, queued) => {
    const stored = JSON.parse(row.request) as Pick<PowerRequest, 'action' | 'level' | 'nodes'>;
    // Queued (decision 0037): the nodes its checks kept, none touched, its busy ones judged before
    // it waited. A status touches no node state: every node asked for; the others, the nodes still
    // its own.
    const nodes = queued
      ? [...queued]
      : stored.action === 'status'
        ? stored.nodes
        : stored.nodes.filter((n) => ctx.store.nodes.get(n)?.wid === row.wid);
    if (nodes.length === 0)
      throw new KaployError('KAPLOY_NOTHING_MODIFIED', 'none of its nodes is left to this power operation');
    const caller = { name: row.user, admin: ctx.config.admins.includes(row.user) };
    const plan = planPower(ctx, deps, caller, {
      action: stored.action,
      ...(stored.level ? { level: stored.level } : {}),
      nodes,
      force: true,
    });
    if (queued) return plan;
    const step = `${POWER_IMPL[stored.action]}-power_${stored.action}`;
    return {
      ...plan,
      run: (r) => {
        r.log.line(0, `engine restarted; resuming from ${step} for ${plan.nodes.length} nodes`);
        return plan.run(r);
      },
    };
  };
}
