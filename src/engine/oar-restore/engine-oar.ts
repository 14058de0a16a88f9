import { existsSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import {
  hooksConfigFile,
  loadHooksConfig,
  RESTORE_DEFAULTS,
  type RestoreConfig,
} from '../../common/hooks-config.js';
import { registerRestoreGauges } from '../metrics/store-gauges.js';
import type { EngineServices } from '../operations/engine-services.js';
import type { EngineContext } from '../server/context.js';
import { engineRestoreGroup } from './engine-restore.js';
import { type RestoreGroupFn, RestoreWorker } from './restore-worker.js';
import { createRestoreRoutes } from './routes-restores.js';

export interface OarRestores {
  /** Register with the engine's other route plugins: `/restores`. */
  plugin: FastifyPluginAsync<{ ctx: EngineContext }>;
  worker: RestoreWorker;
  /** Stops the worker (running restores become pending again); call before closing the store. */
  stop(): Promise<void>;
}

/**
 * The engine side of the OAR integration in one call: the `/restores` routes, and the worker that
 * performs the restores (started now; it resumes what a previous run left pending). The restore
 * settings come from the `restore` section of the OAR hooks' file when the engine runs where it
 * exists (the OAR server), else the defaults.
 */
export function createOarRestores(
  ctx: EngineContext,
  services: EngineServices,
  opts: { config?: RestoreConfig; restoreGroup?: RestoreGroupFn; pollMs?: number; configFile?: string } = {},
): OarRestores {
  const file = opts.configFile ?? hooksConfigFile();
  const config = opts.config ?? (existsSync(file) ? loadHooksConfig(file).restore : RESTORE_DEFAULTS);
  const worker = new RestoreWorker({
    db: ctx.store.db,
    restoreGroup: opts.restoreGroup ?? engineRestoreGroup(ctx, services),
    config,
    logger: ctx.logger.child({ part: 'oar-restores' }),
    newestJobOn: (node) => ctx.store.rights.newestJobOn(node),
    ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
    ...(ctx.metrics ? { metrics: ctx.metrics.operations } : {}),
  });
  // After the worker made its table.
  if (ctx.metrics) registerRestoreGauges(ctx.metrics.registry, ctx.store.db);
  worker.start();
  return {
    plugin: createRestoreRoutes({ onChange: () => worker.wake() }),
    worker,
    stop: () => worker.stop(),
  };
}
