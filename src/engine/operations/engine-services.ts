import { readFileSync } from 'node:fs';
import { KaployError } from '../../common/errors.js';
import type { EngineContext } from '../server/context.js';
import { SshPool } from '../ssh/index.js';
import { DeploymentService } from './deployment-service.js';
import { StoreHostKeys } from './store-host-keys.js';

/**
 * The engine's long-lived services that talk to nodes, created once per engine context: one SSH
 * pool (one connection per node, reused across steps and operations) and the deployment service.
 */
export interface EngineServices {
  pool: SshPool;
  deployments: DeploymentService;
}

const services = new WeakMap<EngineContext, EngineServices>();

export function engineServices(ctx: EngineContext): EngineServices {
  const existing = services.get(ctx);
  if (existing) return existing;
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
  });
  const deployments = new DeploymentService(ctx, {
    pool,
    tuning: {
      waitRebootInitialDelayMs: ctx.config.waitReboot.initialDelayMs,
      waitRebootPollMs: ctx.config.waitReboot.pollMs,
    },
  });
  ctx.signal.addEventListener('abort', () => void pool.closeAll(), { once: true });
  const s = { pool, deployments };
  services.set(ctx, s);
  return s;
}
