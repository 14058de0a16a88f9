import { setTimeout as timersSleep } from 'node:timers/promises';
import pMap from 'p-map';
import { type BootedSystem, probeNode } from '../boot/node-probe.js';
import { nextLevel } from '../power/level-command.js';
import { realClock } from '../workflow/clock.js';
import type { MicroStepContext, NodeResult } from '../workflow/types.js';
import { ArrivalBatch } from './arrival-batch.js';
import { errorReason } from './failure-reason.js';
import { ko, OK } from './for-each-node.js';
import { execOnNode } from './node-exec.js';
import { powerReboot, type RebootDeps } from './reboot.js';
import type { StepEnv } from './step-env.js';

export type TimeoutEvaluator = (expr: string, n: number) => number;

/** What the nodes must be up in after this step: the deployment env, or the deployed system. */
function expectedSystem(ctx: MicroStepContext): BootedSystem {
  return ctx.macro === 'SetDeploymentEnv' ? 'deploy_env' : 'installed';
}

/** Seconds allowed per node: the kexec timeout after a kexec, else the reboot timeout (expressions of n). */
function waitTimeoutSec(
  env: StepEnv,
  ctx: MicroStepContext,
  node: string,
  n: number,
  evaluate: TimeoutEvaluator,
): number {
  const kexec = ctx.impl === 'SetDeploymentEnvKexec' || ctx.impl === 'BootNewEnvKexec';
  const c = env.cluster(node);
  const expr = kexec
    ? (env.spec.rebootKexecTimeout ?? c.timeouts.kexec)
    : (env.spec.rebootClassicalTimeout ?? c.timeouts.reboot);
  return evaluate(expr, n);
}

/**
 * wait_reboot: polls every node until it is up in the expected system. A node not back within the
 * timeout is rebooted one level harder (when the previous boot was a power command) and waited for
 * again; past very_hard, or after a kexec, it is KO.
 */
export async function waitReboot(
  env: StepEnv,
  nodes: readonly string[],
  ctx: MicroStepContext,
  d: RebootDeps,
  evaluate: TimeoutEvaluator,
): Promise<Map<string, NodeResult>> {
  const results = new Map<string, NodeResult>();
  // Nodes found back are reported in batches (arrival-batch.ts says why and how long they wait).
  const batch = new ArrivalBatch(realClock, env.tuning.waitRebootPollMs, ctx.report);
  const settle = (node: string, r: NodeResult) => {
    results.set(node, r);
    batch.add(node, r);
  };
  const sleep =
    env.deps.sleep ?? ((ms: number, signal: AbortSignal) => timersSleep(ms, undefined, { signal }));
  const want = expectedSystem(ctx);
  const deadline = new Map<string, number>();
  const timeoutMs = new Map<string, number>();
  for (const node of nodes) {
    try {
      const sec = waitTimeoutSec(env, ctx, node, nodes.length, evaluate);
      timeoutMs.set(node, sec * 1000);
      deadline.set(node, Date.now() + env.tuning.waitRebootInitialDelayMs + sec * 1000);
    } catch (e) {
      results.set(node, ko((e as Error).message));
    }
  }
  const started = Date.now();
  const pending = () => nodes.filter((n) => !results.has(n));
  try {
    if (env.tuning.waitRebootInitialDelayMs > 0) await sleep(env.tuning.waitRebootInitialDelayMs, ctx.signal);
    while (pending().length > 0) {
      const roundStart = Date.now();
      batch.startRound();
      await pMap(
        pending(),
        async (node) => {
          const n = env.node(node);
          const state = await probeNode(
            n.address,
            env.cluster(node).sshPort,
            env.spec.site.markerPort,
            env.tuning.probeTimeoutMs,
            ctx.signal,
          );
          if (state === want) {
            if (want === 'deploy_env') {
              // First login to the freshly booted deployment environment: learn its host key now
              // (trust on first use), since send_key_in_deploy_env is skipped without -k.
              const login = await logIn(node);
              if (!login.ok) {
                if (login.reason === 'host key mismatch') settle(node, login);
                return; // sshd not ready yet: poll again
              }
            }
            d.state.clear(node);
            settle(node, OK);
            ctx.logger.debug({ node, afterMs: Date.now() - started }, 'node is back');
            if (env.spec.debug)
              ctx.debug(node, `${node} is here after ${Math.round((Date.now() - started) / 1000)}s`);
          }
        },
        { concurrency: env.spec.site.windows.check },
      );
      const late = pending().filter((n) => Date.now() >= (deadline.get(n) ?? 0));
      await Promise.all(late.map((node) => escalate(node)));
      batch.endRound(pending().length);
      // Rounds start every poll period (a round's own probes and logins count in it): nodes that
      // came back while a long round logged others in are not held for a whole extra period.
      const rest = env.tuning.waitRebootPollMs - (Date.now() - roundStart);
      if (pending().length > 0 && rest > 0) await sleep(rest, ctx.signal);
    }
  } catch (e) {
    if (!ctx.signal.aborted) throw e;
    for (const node of pending()) results.set(node, ko('aborted'));
  } finally {
    batch.flush();
  }
  return results;

  /**
   * A login without a command where the transport allows it: the connection is what the next
   * steps reuse, and `true` would cost every node a process (on a virtual node, a sandbox: a
   * third of the daemon's process spawns in a deployment).
   */
  async function logIn(node: string): Promise<NodeResult> {
    const timeoutMs = env.tuning.probeTimeoutMs * 5;
    if (!env.pool.connect) {
      return (await execOnNode(env, ctx, node, 'true', { label: 'ssh', trustOnFirstUse: true, timeoutMs }))
        .result;
    }
    try {
      await env.pool.connect(env.target(node), { signal: ctx.signal, timeoutMs, trustOnFirstUse: true });
      return OK;
    } catch (e) {
      const reason = errorReason('ssh', e);
      if (env.spec.debug) ctx.debug(node, `! ${reason}`);
      return ko(reason);
    }
  }

  async function escalate(node: string): Promise<void> {
    const sec = Math.round((timeoutMs.get(node) ?? 0) / 1000);
    const last = d.state.get(node);
    if (last === undefined) {
      settle(
        node,
        ko(
          `not back in the ${want === 'deploy_env' ? 'deployment environment' : 'deployed system'} after ${sec}s`,
        ),
      );
      return;
    }
    const next = nextLevel(last);
    if (next === undefined) {
      settle(node, ko(`not back after a very_hard reboot within ${sec}s`));
      return;
    }
    ctx.logger.info({ node, from: last, to: next }, 'node not back, escalating the reboot');
    ctx.debug(node, `not back after a ${last} reboot within ${sec}s, trying a ${next} reboot`);
    const r = await powerReboot(env, ctx, d, node, next);
    if (!r.ok) {
      settle(node, ko(`not back after a ${last} reboot within ${sec}s; ${r.reason}`));
      return;
    }
    deadline.set(node, Date.now() + (timeoutMs.get(node) ?? 0));
  }
}
