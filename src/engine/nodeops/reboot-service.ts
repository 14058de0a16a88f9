import { checkRebootRequest, REBOOT_IMPL, type RebootRequest } from '../../api/reboot-request.js';
import { KaployError } from '../../common/errors.js';
import { LEVELS } from '../../common/site-config-types.js';
import type { BootTarget } from '../../formats/pxe-profile.js';
import { checkPxeProfile } from '../../formats/pxe-profile-check.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import { findEnvironment } from '../environments/environment-service.js';
import type { OperationPlan } from '../operations/operation-kind.js';
import type { EngineContext } from '../server/context.js';
import type { ProgressPosition } from '../store/progress-repo.js';
import { evalTimeout } from '../workflow/timeout-expr.js';
import { createWindow } from '../workflow/window.js';
import type { NodeOpOutcome } from './node-op-outcome.js';
import { type NodeStepDeps, nodeStepEnv, TrackedRebootState } from './node-step-env.js';
import { REBOOT } from './nodeop-kinds.js';
import { rebootStages } from './reboot-stages.js';
import { runStages, type StageJournal } from './run-stages.js';
import { dropBusy, targetNodes } from './target-nodes.js';

/**
 * The nodes whose last deployed environment is destructive (kareboot3 -c refuses them; the OAR
 * restore redeploys them instead of rebooting them onto production).
 */
function destructiveNodes(ctx: EngineContext, names: readonly string[]): { node: string; env: string }[] {
  return names.flatMap((node) => {
    const row = ctx.store.nodes.get(node);
    return row?.destructive ? [{ node, env: row.env }] : [];
  });
}

/** What the store holds of one node of a reboot an engine restart interrupted (reboot-recovery.ts). */
export interface RecoveredRebootNode {
  /** The last micro-step it completed. */
  micro?: string;
  /** Its outcome, once known: kept, the node does nothing more. */
  outcome?: NodeOpOutcome;
}

/**
 * Checks a reboot request against the site, the caller's rights, the environments and the nodes'
 * last deployments, and returns the operation to launch. Throws for the first problem; nothing has
 * been touched then. `recovered`: the progress of its nodes an engine restart interrupted (durable
 * reboots, docs/decisions/0037): each node goes on at the micro-step after its last completed one.
 */
export function planReboot(
  ctx: EngineContext,
  deps: NodeStepDeps,
  caller: AuthenticatedUser,
  request: RebootRequest,
  recovered?: ReadonlyMap<string, RecoveredRebootNode>,
): OperationPlan<NodeOpOutcome> {
  const req = checkRebootRequest(request);
  const nodes = targetNodes(ctx, caller, req.nodes, 'reboot');
  if (req.checkDestructive) {
    const destructive = destructiveNodes(
      ctx,
      nodes.map((n) => n.name),
    );
    if (destructive.length > 0) {
      const what = destructive.map((d) => `${d.node} (${d.env})`).join(', ');
      throw new KaployError(
        'KAPLOY_DESTRUCTIVE',
        `the last environment deployed on ${what} is destructive: it may have erased what this reboot needs; nothing was done`,
        { node: destructive[0]?.node },
      );
    }
  }
  if (req.rebootClassicalTimeout !== undefined) {
    try {
      evalTimeout(req.rebootClassicalTimeout, nodes.length);
    } catch (e) {
      throw new KaployError(
        'KAPLOY_OPTION',
        `--reboot-classical-timeout '${req.rebootClassicalTimeout}': ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  const pxeTarget: BootTarget | undefined =
    req.pxeProfile !== undefined ? checkPxeProfile(req.pxeProfile) : undefined;
  const env = req.environment ? findEnvironment(ctx, caller, req.environment) : undefined;
  const envName = env ? `${env.name}:${env.version}` : '';
  const { kept, discarded } = dropBusy(ctx, nodes, req.force === true);
  const level = req.level ?? 'soft';
  const impl = REBOOT_IMPL[req.kind];
  const production = ctx.config.production;
  const { keys: _keys, pxeProfile: _pxe, ...stored } = req;
  const names = kept.map((n) => n.name);
  return {
    kind: REBOOT,
    user: caller.name,
    nodes: names,
    request: { ...stored, nodes: names, impl },
    // Left out of the stored request (large, keys), kept for a resumption (always: {} says none).
    extras: {
      ...(req.keys !== undefined ? { keys: req.keys } : {}),
      ...(req.pxeProfile !== undefined ? { pxeProfile: req.pxeProfile } : {}),
    },
    env: envName,
    discarded,
    runningState: 'rebooting',
    debug: req.debug === true,
    run: async (r) => {
      const stepEnv = nodeStepEnv(ctx.config, deps, r.logger, {
        wid: r.wid,
        user: caller.name,
        nodes: kept,
        ...(req.partition !== undefined ? { partition: req.partition } : {}),
        ...(req.keys !== undefined ? { keys: req.keys } : {}),
        ...(req.rebootClassicalTimeout !== undefined
          ? { rebootClassicalTimeout: req.rebootClassicalTimeout }
          : {}),
        debug: req.debug === true,
      });
      const state = new TrackedRebootState((node, lv) =>
        r.log.line(3, `   * Performing a ${lv} reboot on ${node}`),
      );
      const rd = {
        state,
        window: createWindow(
          ctx.config.windows.reboot,
          ctx.metrics ? (d: number) => ctx.metrics?.operations.queued('reboot', d) : undefined,
        ),
      };
      const first = kept[0];
      const timeoutSec = first
        ? evalTimeout(req.rebootClassicalTimeout ?? stepEnv.cluster(first.name).timeouts.reboot, kept.length)
        : 0;
      const stages = rebootStages({
        kind: req.kind,
        level,
        env: stepEnv,
        rd,
        run: r,
        ...(pxeTarget ? { pxeTarget } : {}),
        keys: req.keys !== undefined,
      });
      // Each node's completed micro-steps, durable: a restarted engine resumes it (decision 0037).
      const write = (positions: ProgressPosition[], outcomes: { node: string; outcome: string }[]) => {
        try {
          ctx.store.progress.write(r.wid, positions, outcomes);
        } catch (e) {
          r.logger.warn({ err: e }, 'could not record the progress of the reboot');
        }
      };
      const journal: StageJournal = {
        completed: (ns, micro) =>
          write(
            ns.map((node) => ({
              node,
              macro: 'Reboot',
              impl,
              attempt: 1,
              micro,
              entered: null,
              ledger: '{}',
            })),
            [],
          ),
        ended: (os) =>
          write(
            [],
            os.map((o) => ({ node: o.node, outcome: JSON.stringify(o) })),
          ),
      };
      const { going, from, done } = resumePoints(names, stages, recovered);
      // Past their reboot: sent at least the level asked, so a node not back escalates from it.
      const rebootAt = stages.findIndex((s) => s.micro === 'reboot');
      for (const n of going) if (rebootAt >= 0 && (from.get(n) ?? 0) > rebootAt) state.assume(n, level);
      if (recovered)
        for (const [i, ns] of groupBy(going, (n) => from.get(n) ?? 0)) {
          const at = stages[Math.min(i, stages.length - 1)]?.micro ?? 'reboot';
          r.log.line(0, `engine restarted; resuming from ${impl}-${at} for ${ns.length} nodes`);
        }
      const outcomes = await runStages(r, 'Reboot', impl, going, stages, {
        timeoutSec,
        ...(ctx.metrics
          ? { metrics: { steps: ctx.metrics.steps, clusterOf: (n: string) => stepEnv.cluster(n).name } }
          : {}),
        retries: (node) => {
          const top = state.highest.get(node);
          return top ? Math.max(0, LEVELS.indexOf(top) - LEVELS.indexOf(level)) : 0;
        },
        from,
        journal,
      });
      const byNode = new Map([...done, ...outcomes].map((o) => [o.node, o]));
      return names.map((n) => byNode.get(n) as NodeOpOutcome);
    },
    settle: (o) => {
      if (o.status === 'cancelled') return { state: 'aborted' };
      if (o.status === 'ko') return { state: 'reboot_failed' };
      if (req.kind === 'deploy_env') return { state: 'deploy_env' };
      if (req.kind === 'recorded_env' && env) {
        const prod = env.name === production.environment && env.user === production.user;
        return {
          state: prod ? 'prod_env' : 'recorded_env',
          env: envName,
          env_user: env.user,
          destructive: env.destructive ? 1 : 0,
        };
      }
      return { state: 'rebooted' };
    },
  };
}

/**
 * Where each node of a resumed reboot goes on: a node with an outcome keeps it (`done`); the others
 * start at the stage after the last one they completed (`from`; 0 without progress). Every reboot
 * stage is safe to run again (it rewrites a PXE profile or the keys, reboots, or waits for the boot:
 * docs/engine.md), so the stage a node was in is run again.
 */
function resumePoints(
  names: readonly string[],
  stages: readonly { micro: string }[],
  recovered: ReadonlyMap<string, RecoveredRebootNode> | undefined,
): { going: string[]; from: Map<string, number>; done: NodeOpOutcome[] } {
  const from = new Map<string, number>();
  const done: NodeOpOutcome[] = [];
  const going: string[] = [];
  for (const n of names) {
    const rec = recovered?.get(n);
    if (rec?.outcome) {
      done.push(rec.outcome);
      continue;
    }
    going.push(n);
    const i = rec?.micro ? stages.findIndex((s) => s.micro === rec.micro) : -1;
    from.set(n, i + 1);
  }
  return { going, from, done };
}

function groupBy<T, K>(xs: readonly T[], key: (x: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const x of xs) out.set(key(x), [...(out.get(key(x)) ?? []), x]);
  return out;
}
