import { checkRebootRequest, REBOOT_IMPL, type RebootRequest } from '../../api/reboot-request.js';
import { KaployError } from '../../common/errors.js';
import { LEVELS } from '../../common/site-config-types.js';
import type { BootTarget } from '../../formats/pxe-profile.js';
import { checkPxeProfile } from '../../formats/pxe-profile-check.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import { findEnvironment } from '../environments/environment-service.js';
import type { OperationPlan } from '../operations/operation-kind.js';
import type { EngineContext } from '../server/context.js';
import { evalTimeout } from '../workflow/timeout-expr.js';
import { createWindow } from '../workflow/window.js';
import type { NodeOpOutcome } from './node-op-outcome.js';
import { type NodeStepDeps, nodeStepEnv, TrackedRebootState } from './node-step-env.js';
import { REBOOT } from './nodeop-kinds.js';
import { rebootStages } from './reboot-stages.js';
import { runStages } from './run-stages.js';
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

/**
 * Checks a reboot request against the site, the caller's rights, the environments and the nodes'
 * last deployments, and returns the operation to launch. Throws for the first problem; nothing has
 * been touched then.
 */
export function planReboot(
  ctx: EngineContext,
  deps: NodeStepDeps,
  caller: AuthenticatedUser,
  request: RebootRequest,
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
      return runStages(r, 'Reboot', impl, names, stages, {
        timeoutSec,
        ...(ctx.metrics
          ? { metrics: { steps: ctx.metrics.steps, clusterOf: (n: string) => stepEnv.cluster(n).name } }
          : {}),
        retries: (node) => {
          const top = state.highest.get(node);
          return top ? Math.max(0, LEVELS.indexOf(top) - LEVELS.indexOf(level)) : 0;
        },
      });
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
