import type { RebootRequest } from '../../api/reboot-request.js';
import { KaployError } from '../../common/errors.js';
import type { Resumer } from '../operations/operation-recovery.js';
import type { EngineContext } from '../server/context.js';
import type { ProgressRow } from '../store/progress-repo.js';
import type { NodeOpOutcome } from './node-op-outcome.js';
import type { NodeStepDeps } from './node-step-env.js';
import { planReboot, type RecoveredRebootNode } from './reboot-service.js';

/**
 * Reboots an engine restart interrupted go on (durable reboots, docs/decisions/0037): the stored
 * request, with what it left out (keys, PXE profile: kept apart), is checked again as its owner's
 * (rights, environment) on the nodes still given to it, and each node goes on at the micro-step
 * after the last one it completed; a node with an outcome keeps it. A queued one (`queued`: the
 * nodes its checks kept, none touched) is planned again on them, from its start.
 */
export function rebootResumer(ctx: EngineContext, deps: NodeStepDeps): Resumer {
  return async (row, _signal, queued) => {
    const { impl: _impl, ...req } = JSON.parse(row.request) as RebootRequest & { impl?: string };
    const kept = ctx.store.progress.extras(row.wid);
    const extras =
      kept === undefined ? undefined : (JSON.parse(kept) as Pick<RebootRequest, 'keys' | 'pxeProfile'>);
    // Started by an engine that did not keep them: what the reboot needs is lost.
    if (!extras && (req.kind === 'set_pxe' || req.kind === 'deploy_env'))
      throw new KaployError(
        'KAPLOY_MISSING_OPTION',
        `the ${req.kind} reboot cannot go on after the engine restarted: its ${req.kind === 'set_pxe' ? 'PXE profile was' : 'keys were'} not kept`,
      );
    const nodes = queued ? [...queued] : req.nodes.filter((n) => ctx.store.nodes.get(n)?.wid === row.wid);
    if (nodes.length === 0)
      throw new KaployError('KAPLOY_NOTHING_MODIFIED', 'none of its nodes is left to this reboot');
    const caller = { name: row.user, admin: ctx.config.admins.includes(row.user) };
    // Its own nodes are `rebooting` for it (a queued one's were judged before it waited): not busy.
    const request: RebootRequest = { ...req, ...extras, nodes, force: true };
    return planReboot(
      ctx,
      deps,
      caller,
      request,
      queued ? undefined : recoveredReboot(ctx.store.progress.of(row.wid)),
    );
  };
}

/** What the store holds of each node of an interrupted reboot (an unreadable outcome: none). */
function recoveredReboot(rows: readonly ProgressRow[]): Map<string, RecoveredRebootNode> {
  const out = new Map<string, RecoveredRebootNode>();
  for (const r of rows) {
    const rec: RecoveredRebootNode = {};
    if (r.micro) rec.micro = r.micro;
    if (r.outcome) {
      try {
        rec.outcome = JSON.parse(r.outcome) as NodeOpOutcome;
      } catch {
        // Unreadable: the node goes on from its last step.
      }
    }
    out.set(r.node, rec);
  }
  return out;
}
