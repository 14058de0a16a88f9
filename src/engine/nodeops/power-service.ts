import pMap from 'p-map';
import { POWER_IMPL, type PowerRequest } from '../../api/power-request.js';
import type { Level } from '../../common/site-config-types.js';
import { LEVELS } from '../../common/site-config-types.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { OperationPlan } from '../operations/operation-kind.js';
import type { EngineContext } from '../server/context.js';
import { DEFAULT_TUNING } from '../steps/deployment-spec.js';
import { createWindow } from '../workflow/window.js';
import type { NodeOpOutcome } from './node-op-outcome.js';
import type { NodeStepDeps } from './node-step-env.js';
import { POWER } from './nodeop-kinds.js';
import { type PowerNodeOutcome, powerNode, powerStatus } from './power-node.js';
import { dropBusy, targetNodes } from './target-nodes.js';

/**
 * kapower3 --on / --off / --status as an operation (P-): the cluster's commands per node, inside
 * the reboot window (powering is what the window protects the power supply from), per-node
 * outcomes. --status reads only: it neither discards busy nodes nor changes their states.
 */
export function planPower(
  ctx: EngineContext,
  deps: NodeStepDeps,
  caller: AuthenticatedUser,
  req: PowerRequest,
): OperationPlan<NodeOpOutcome> {
  const nodes = targetNodes(ctx, caller, req.nodes, 'power');
  const status = req.action === 'status';
  const { kept, discarded } = status
    ? { kept: nodes, discarded: [] }
    : dropBusy(ctx, nodes, req.force === true);
  const level: Level = req.level ?? 'soft';
  const impl = POWER_IMPL[req.action];
  const timeoutMs = deps.tuning?.powerCommandTimeoutMs ?? DEFAULT_TUNING.powerCommandTimeoutMs;
  const clusters = new Map(ctx.config.clusters.map((c) => [c.name, c]));
  const names = kept.map((n) => n.name);
  return {
    kind: POWER,
    user: caller.name,
    nodes: names,
    request: { action: req.action, level, nodes: names, impl },
    env: '',
    discarded,
    ...(status ? {} : { runningState: 'powering' }),
    debug: req.debug === true,
    run: async (r) => {
      const { log } = r;
      const window = createWindow(
        ctx.config.windows.reboot,
        ctx.metrics ? (d: number) => ctx.metrics?.operations.queued('reboot', d) : undefined,
      );
      log.line(1, `Performing a Power[${impl}] step on ${kept.length} node(s)`);
      const started = Date.now();
      const outcomes = await pMap(
        kept,
        async (node): Promise<NodeOpOutcome> => {
          const cluster = clusters.get(node.cluster);
          const t0 = Date.now();
          const base = {
            node: node.name,
            step: impl,
            micro: status ? 'power_status' : `power_${req.action}`,
            timeoutSec: Math.round(timeoutMs / 1000),
          };
          log.nodes.set(node.name, { macro: impl, micro: base.micro, state: 'running' });
          if (!cluster)
            return {
              ...base,
              status: 'ko',
              reason: `unknown cluster ${node.cluster}`,
              retries: 0,
              durationMs: 0,
            };
          const o = { timeoutMs, signal: r.signal };
          if (status) {
            const s = await powerStatus(ctx.config.site, cluster, node, o);
            const done = { ...base, retries: 0, durationMs: Date.now() - t0 };
            if (s.ok) {
              log.line(4, `${node.name}: ${s.output}`);
              return { ...done, status: 'ok', output: s.output };
            }
            return { ...done, status: r.signal.aborted ? 'cancelled' : 'ko', reason: s.reason };
          }
          const res = await window
            .run(
              () =>
                powerNode(
                  ctx.config.site,
                  cluster,
                  node,
                  req.action === 'on' ? 'power_on' : 'power_off',
                  level,
                  {
                    ...o,
                    onAttempt: (lv, x) => {
                      log.line(3, `   * Performing a ${lv} power ${req.action} on ${node.name}`);
                      if (!x.ok) log.debugLine(node.name, `${lv} power ${req.action} failed: ${x.reason}`);
                    },
                  },
                ),
              r.signal,
            )
            .catch((e: unknown): PowerNodeOutcome => ({ ok: false, reason: (e as Error).message }));
          // The node's SSH connection does not survive a power change.
          deps.pool.forget(node.name);
          const retries = res.level ? Math.max(0, LEVELS.indexOf(res.level) - LEVELS.indexOf(level)) : 0;
          const done = { ...base, retries, durationMs: Date.now() - t0 };
          if (res.ok) return { ...done, status: 'ok' };
          if (r.signal.aborted) return { ...done, status: 'cancelled', reason: 'cancelled' };
          log.line(1, `!!! ${node.name} failed on ${impl}-${base.micro}: ${res.reason}`);
          return { ...done, status: 'ko', reason: res.reason };
        },
        { concurrency: Math.max(1, ctx.config.windows.check) },
      );
      log.line(1, `End of step Power[${impl}] after ${Math.round((Date.now() - started) / 1000)}s`);
      // One observation per cluster, as for a workflow's group: its OK nodes' step, until the last.
      const steps = ctx.metrics?.steps;
      if (steps && !r.signal.aborted) {
        const okBy = new Map<string, number>();
        kept.forEach((node, i) => {
          const o = outcomes[i];
          if (o?.status === 'ok') okBy.set(node.cluster, Math.max(okBy.get(node.cluster) ?? 0, o.durationMs));
        });
        const micro = status ? 'power_status' : `power_${req.action}`;
        for (const [c, ms] of okBy) {
          steps.nodeOpMicro(c, impl, micro, ms / 1000);
          steps.nodeOpMacro(c, 'Power', impl, ms / 1000);
        }
      }
      return outcomes;
    },
    settle: (o) => {
      if (status) return undefined;
      if (o.status === 'cancelled') return { state: 'aborted' };
      return { state: o.status === 'ok' ? 'powered' : 'power_failed' };
    },
  };
}
