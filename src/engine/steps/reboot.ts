import type { Level } from '../../common/site-config-types.js';
import { nodeCommands } from '../../formats/node-commands.js';
import { rebootNode } from '../power/reboot-node.js';
import { isSshError } from '../ssh/ssh-error.js';
import type { MicroStepContext, NodeResult } from '../workflow/types.js';
import type { Window } from '../workflow/window.js';
import { errorReason, exitReason } from './failure-reason.js';
import { forEachNode, ko, OK } from './for-each-node.js';
import type { RebootState } from './reboot-state.js';
import type { StepEnv } from './step-env.js';

export interface RebootDeps {
  state: RebootState;
  /** At most `windows.reboot` nodes being power-cycled at once. */
  window: Window;
}

/** Power-cycles one node from `start` with escalation, inside the reboot window; forgets its SSH connection. */
export async function powerReboot(
  env: StepEnv,
  ctx: MicroStepContext,
  d: RebootDeps,
  node: string,
  start: Level,
): Promise<NodeResult> {
  const out = await d.window.run(
    () =>
      rebootNode(env.spec.site.site, env.cluster(node), env.node(node), start, {
        timeoutMs: env.tuning.powerCommandTimeoutMs,
        signal: ctx.signal,
        onAttempt: (a) => {
          ctx.logger.info({ node, level: a.level, ok: a.ok, reason: a.reason }, `${a.level} reboot`);
          ctx.debug(node, `${a.level} reboot${a.ok ? '' : ` failed: ${a.reason}`}`);
        },
      }),
    ctx.signal,
  );
  // The node's old connection is dead or about to be: the next exec must reconnect.
  env.pool.forget(node);
  if (!out.ok) return ko(out.reason);
  d.state.set(node, out.level);
  return OK;
}

/** reboot: the cluster's reboot command, soft first (hard for BootNewEnvHardReboot). */
export function reboot(env: StepEnv, nodes: readonly string[], ctx: MicroStepContext, d: RebootDeps) {
  const start: Level = ctx.impl === 'BootNewEnvHardReboot' ? 'hard' : 'soft';
  return forEachNode(nodes, ctx, env.spec.site.windows.reboot, (node) =>
    powerReboot(env, ctx, d, node, start),
  );
}

/**
 * reboot_from_deploy_env: the deployment environment reboots itself (`reboot` over SSH; the
 * connection dropping is the expected end). A node that cannot be told falls back to the cluster's
 * commands from hard, since a soft reboot is what just failed.
 */
export function rebootFromDeployEnv(
  env: StepEnv,
  nodes: readonly string[],
  ctx: MicroStepContext,
  d: RebootDeps,
) {
  return forEachNode(nodes, ctx, env.spec.site.windows.reboot, async (node) => {
    let failure: string | undefined;
    try {
      const r = await d.window.run(
        () =>
          env.pool.exec(env.target(node), nodeCommands.reboot(), {
            signal: ctx.signal,
            timeoutMs: env.tuning.powerCommandTimeoutMs,
          }),
        ctx.signal,
      );
      if (r.exitCode !== 0) failure = exitReason('reboot', r);
    } catch (e) {
      if (!isSshError(e, 'connection_lost')) failure = errorReason('reboot', e);
    }
    env.pool.forget(node);
    if (failure === undefined) {
      d.state.set(node, 'soft');
      ctx.debug(node, 'soft reboot from the deployment environment');
      return OK;
    }
    if (ctx.signal.aborted) return ko('aborted');
    ctx.debug(node, `reboot from the deployment environment failed (${failure}), trying a hard reboot`);
    return powerReboot(env, ctx, d, node, 'hard');
  });
}
