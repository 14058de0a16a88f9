import { type Logger, silentLogger } from '../common/logger.js';
import type { SiteConfig } from '../common/site-config.js';
import { statsRoutes } from '../stats/routes-stats.js';
import { enrolUser } from './auth/enrol.js';
import { FileCache } from './environments/file-cache.js';
import { seedEnvironments } from './environments/seed.js';
import { kadeployApiServices } from './kadeploy-api/listener.js';
import type { EngineMetrics } from './metrics/engine-metrics.js';
import { metricsListenerServices, metricsRoutes } from './metrics/routes-metrics.js';
import { nodeOpsRoutes } from './nodeops/routes-nodeops.js';
import { createOarRestores } from './oar-restore/engine-oar.js';
import { restoreRoutes } from './oar-restore/routes-restores.js';
import { deploymentRoutes } from './operations/deployment.js';
import { createEngineServices, type EngineServices } from './operations/engine-services.js';
import type { EnginePlugin } from './server/app.js';
import type { EngineContext } from './server/context.js';
import { OperationRegistry } from './server/operations-registry.js';
import { environmentsRoutes } from './server/routes-environments.js';
import { filesRoutes } from './server/routes-files.js';
import { infoRoutes } from './server/routes-info.js';
import { nodesRoutes } from './server/routes-nodes.js';
import { rightsRoutes } from './server/routes-rights.js';
import { type RunningServer, startServer } from './server/start.js';
import { openStore, storePath } from './store/store.js';
import { uiRoutes } from './ui/routes-ui.js';

// The engine assembled: the one engine module the command line (`kaploy server`, and through it
// the virtual site) imports to run and administer an engine. The engine's parts know nothing of
// each other's wiring; this file is where they meet (docs/architecture.md).
export { defaultSiteConfig } from './server/default-config.js';
export type { RunningServer } from './server/start.js';

/**
 * The engine's route families, one plugin each; adding a family is one import and one line. The
 * families that act on nodes share the engine's services (SSH pool, operations, consoles), made
 * once per engine (`createEngineServices`) and handed to them here.
 */
export function routePlugins(services: EngineServices, metrics?: EngineMetrics): readonly EnginePlugin[] {
  return [
    ...(metrics ? [metricsRoutes(metrics)] : []),
    infoRoutes,
    nodesRoutes,
    environmentsRoutes,
    filesRoutes,
    rightsRoutes,
    deploymentRoutes(services),
    statsRoutes as EnginePlugin,
    nodeOpsRoutes(services),
    uiRoutes(services),
  ];
}

export interface EngineOptions {
  /** Overrides the configuration's listen port (0 = any free port). */
  port?: number;
  host?: string;
  logger?: Logger;
  /**
   * OAR deploy jobs: `worker` (the default) serves /restores and runs the worker that restores
   * production after a job; `routes` serves /restores only, so requests stay pending (the hooks'
   * tests against a real OAR, whose nodes cannot be redeployed).
   */
  restores?: 'worker' | 'routes';
}

/** A running engine and the services its routes and restores share. */
export interface RunningEngine extends RunningServer {
  services: EngineServices;
}

/**
 * Runs the site engine: the store opened (and migrated), the engine's services made once, every
 * route family and the OAR restores given them.
 */
export async function startEngine(config: SiteConfig, opts: EngineOptions = {}): Promise<RunningEngine> {
  const { restores = 'worker', ...listen } = opts;
  let services: EngineServices | undefined;
  const made = (ctx: EngineContext): EngineServices => {
    services ??= createEngineServices(ctx);
    return services;
  };
  const running = await startServer(config, {
    ...listen,
    plugins: (ctx) => [
      ...routePlugins(made(ctx), metricsOnEngineListener(ctx)),
      ...(restores === 'routes' ? [restoreRoutes] : []),
    ],
    // The OAR restores (worker mode) and the Kadeploy-compatible listener, when the site enables it.
    services: (ctx) => [
      ...(restores === 'worker' ? [createOarRestores(ctx, made(ctx))] : []),
      ...kadeployApiServices(ctx, made(ctx)),
      ...(ctx.metrics ? metricsListenerServices(ctx, ctx.metrics) : []),
    ],
  });
  return { ...running, services: made(running.ctx) };
}

/** The metrics when the site serves them on the engine's listener (enabled, no listener of their own). */
function metricsOnEngineListener(ctx: EngineContext): EngineMetrics | undefined {
  const m = ctx.config.metrics ?? { enabled: true };
  return m.enabled && !m.listen ? ctx.metrics : undefined;
}

export interface Enrolment {
  user: string;
  /** Where to write the secret; default ~USER/.kaploy/tokens/<site>. */
  out?: string;
  owner?: { uid: number; gid: number };
}

/**
 * `kaploy server token`: creates or rotates users' secrets in the engine's store (run where the
 * data directory is), one user after the other in the order given; a failure stops there.
 */
export function enrolUsers(
  config: SiteConfig,
  users: readonly Enrolment[],
): { user: string; file: string }[] {
  const store = openStore(storePath(config.dataDir));
  try {
    return users.map((u) => ({ user: u.user, ...enrolUser(store, { ...u, site: config.site }) }));
  } finally {
    store.close();
  }
}

/** `kaploy server add-env`: records reference environments of `user` from description files. */
export async function addReferenceEnvironments(
  config: SiteConfig,
  user: string,
  files: readonly string[],
  signal: AbortSignal,
): Promise<{ added: string[]; skipped: string[]; warnings: string[] }> {
  const store = openStore(storePath(config.dataDir));
  try {
    const ctx = {
      config,
      store,
      operations: new OperationRegistry(),
      logger: silentLogger,
      files: new FileCache(config.dataDir, config.cache),
      signal,
    };
    return await seedEnvironments(ctx, user, files, signal);
  } finally {
    store.close();
  }
}
