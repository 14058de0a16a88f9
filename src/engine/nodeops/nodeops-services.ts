import type { PowerRequest } from '../../api/power-request.js';
import type { RebootRequest } from '../../api/reboot-request.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import { engineServices } from '../operations/engine-services.js';
import type { EngineContext } from '../server/context.js';
import { ConsoleService } from './console-service.js';
import type { NodeOpOutcome } from './node-op-outcome.js';
import { NodeOpService } from './node-op-service.js';
import type { NodeStepDeps } from './node-step-env.js';
import { planPower } from './power-service.js';
import { planReboot } from './reboot-service.js';

/** The engine's reboot, power and console services, once per engine context (sharing its SSH pool). */
export interface NodeOpsServices {
  deps: NodeStepDeps;
  reboots: NodeOpService;
  powers: NodeOpService;
  consoles: ConsoleService;
}

const services = new WeakMap<EngineContext, NodeOpsServices>();

export function nodeOpsServices(ctx: EngineContext): NodeOpsServices {
  const existing = services.get(ctx);
  if (existing) return existing;
  const s: NodeOpsServices = {
    deps: {
      pool: engineServices(ctx).pool,
      tuning: {
        waitRebootInitialDelayMs: ctx.config.waitReboot.initialDelayMs,
        waitRebootPollMs: ctx.config.waitReboot.pollMs,
      },
    },
    reboots: new NodeOpService(ctx, 'reboot'),
    powers: new NodeOpService(ctx, 'power'),
    consoles: new ConsoleService(ctx),
  };
  services.set(ctx, s);
  return s;
}

/** Starts a reboot (kareboot3); returns its id at once and a promise of the per-node outcomes. */
export function startReboot(ctx: EngineContext, caller: AuthenticatedUser, req: RebootRequest) {
  const s = nodeOpsServices(ctx);
  const plan = planReboot(ctx, s.deps, caller, req);
  return { ...s.reboots.launch(plan), discarded: plan.discarded };
}

export function startPower(ctx: EngineContext, caller: AuthenticatedUser, req: PowerRequest) {
  const s = nodeOpsServices(ctx);
  const plan = planPower(ctx, s.deps, caller, req);
  return { ...s.powers.launch(plan), discarded: plan.discarded };
}

/**
 * A reboot as a library call, for the engine's own users (the OAR production restore): checks as
 * for kareboot3, runs, and resolves with one outcome per node. Aborting `signal` cancels it (the
 * nodes end cancelled, with their statistics rows).
 */
export async function rebootNodes(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  req: RebootRequest,
  signal?: AbortSignal,
): Promise<NodeOpOutcome[]> {
  signal?.throwIfAborted();
  const { wid, done } = startReboot(ctx, caller, req);
  const onAbort = () => ctx.operations.get(wid)?.cancel(`cancelled: ${String(signal?.reason ?? 'aborted')}`);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await done;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
