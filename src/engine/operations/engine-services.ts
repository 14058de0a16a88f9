import { readFileSync } from 'node:fs';
import { KaployError } from '../../common/errors.js';
import { ConsoleService } from '../nodeops/console-service.js';
import type { NodeStepDeps } from '../nodeops/node-step-env.js';
import { POWER, REBOOT } from '../nodeops/nodeop-kinds.js';
import { powerResumer } from '../nodeops/power-recovery.js';
import { rebootResumer } from '../nodeops/reboot-recovery.js';
import type { EngineContext } from '../server/context.js';
import { SshPool } from '../ssh/index.js';
import { DEPLOY } from './deploy-kind.js';
import { deploymentResumer } from './deployment-recovery.js';
import { OperationService } from './operation-service.js';
import { StoreHostKeys } from './store-host-keys.js';

/**
 * The engine's long-lived services that talk to nodes: one SSH pool (one connection per node,
 * reused across steps and operations), what the per-node work of every plan needs (`deps`), the
 * one operation service (deployments, reboots, power) and the consoles. Made once per engine by
 * its assembly (src/engine/main.ts), which hands them to the route plugins and the OAR restores.
 */
export interface EngineServices {
  pool: SshPool;
  deps: NodeStepDeps;
  operations: OperationService;
  consoles: ConsoleService;
}

/** Reads the engine's key, opens the pool, and resumes or settles the operations a crash left unfinished. */
export function createEngineServices(ctx: EngineContext): EngineServices {
  let key: Buffer;
  try {
    key = readFileSync(ctx.config.ssh.keyFile);
  } catch (e) {
    throw new KaployError(
      'KAPLOY_CONFIG',
      `cannot read the engine's SSH key ${ctx.config.ssh.keyFile}: ${(e as Error).message}`,
      {
        file: ctx.config.ssh.keyFile,
      },
    );
  }
  const hostKeys = new StoreHostKeys(ctx.store.knownHosts, (e) =>
    ctx.logger.warn({ err: e }, 'could not write learnt host keys to the store'),
  );
  // Before the store closes: keys learnt in the last moments are written, not lost.
  ctx.signal.addEventListener('abort', () => hostKeys.flush(), { once: true });
  const pool = new SshPool({
    privateKey: key,
    hostKeys,
    connectTimeoutMs: ctx.config.ssh.connectTimeoutMs,
    keepaliveIntervalMs: ctx.config.ssh.keepaliveIntervalMs,
    maxChannelsPerConnection: ctx.config.ssh.maxChannels,
    logger: ctx.logger.child({ part: 'ssh' }),
    ...(ctx.metrics ? { observer: ctx.metrics.ssh } : {}),
  });
  const deps: NodeStepDeps = {
    pool,
    tuning: {
      waitRebootInitialDelayMs: ctx.config.waitReboot.initialDelayMs,
      waitRebootPollMs: ctx.config.waitReboot.pollMs,
    },
  };
  ctx.signal.addEventListener('abort', () => void pool.closeAll(), { once: true });
  return {
    pool,
    deps,
    // Made with the engine, so the operations a crash left unfinished are resumed (running ones)
    // or queued again (those waiting for admission) at start.
    operations: new OperationService(ctx, [DEPLOY, REBOOT, POWER], {
      deploy: deploymentResumer(ctx, deps),
      reboot: rebootResumer(ctx, deps),
      power: powerResumer(ctx, deps),
    }),
    consoles: new ConsoleService(ctx),
  };
}
