import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createLogger, type Logger } from '../../common/logger.js';
import { nodeIndex, type SiteConfig } from '../../common/site-config.js';
import { FileCache } from '../environments/file-cache.js';
import { EngineMetrics } from '../metrics/engine-metrics.js';
import { registerNodeStates } from '../metrics/store-gauges.js';
import { openStore, storePath } from '../store/store.js';
import { buildApp, type EnginePlugin } from './app.js';
import type { EngineContext } from './context.js';
import { ensureEngineKey } from './engine-key.js';
import { OperationRegistry } from './operations-registry.js';
import { loadServerTls } from './tls.js';

export interface StartOptions {
  /** Overrides the configuration's listen port (0 = any free port). */
  port?: number;
  host?: string;
  logger?: Logger;
  /**
   * The route families to serve, made once the store is open (src/engine/main.ts makes the
   * engine's, with the services they share).
   */
  plugins: (ctx: EngineContext) => readonly EnginePlugin[];
  /**
   * Services that live with the engine (the OAR restore worker): made once the store is open,
   * their routes served beside `plugins`, stopped before the store closes.
   */
  services?: (ctx: EngineContext) => readonly EngineService[];
}

/** Something running inside the engine beside the routes, with routes of its own or not. */
export interface EngineService {
  plugin?: EnginePlugin;
  stop(): Promise<void>;
}

export interface RunningServer {
  app: FastifyInstance;
  ctx: EngineContext;
  url: string;
  close(): Promise<void>;
}

/** State of a node the engine has never touched: it runs the site's production system. */
const INITIAL_NODE_STATE = 'prod_env';

/** Opens the store (migrating it), records the site's nodes, and listens. */
export async function startServer(config: SiteConfig, opts: StartOptions): Promise<RunningServer> {
  // A bad certificate or key fails the start before anything is opened.
  const tls = loadServerTls(config.listen);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // A real site's key is provided by its admins; the embedded default makes its own.
  if (config.source === '<embedded>') ensureEngineKey(config.ssh.keyFile);
  const store = openStore(storePath(config.dataDir));
  store.nodes.ensure([...nodeIndex(config).keys()], INITIAL_NODE_STATE);
  const ac = new AbortController();
  const metrics = new EngineMetrics();
  const ctx: EngineContext = {
    config,
    store,
    operations: new OperationRegistry(),
    logger: opts.logger ?? createLogger('kaploy-server'),
    files: new FileCache(config.dataDir, config.cache),
    signal: ac.signal,
    metrics,
    ...(tls ? { tls } : {}),
  };
  registerNodeStates(metrics.registry, store.db);
  ctx.files.metrics = metrics.images;
  const removed = ctx.files.removeStaleTemporaries();
  if (removed > 0) ctx.logger.info({ removed }, 'removed partial files left in the image cache');
  const services: EngineService[] = [];
  const stopServices = async () => {
    for (const svc of services.splice(0).reverse()) await svc.stop();
  };
  let app: FastifyInstance;
  try {
    const plugins = opts.plugins(ctx);
    services.push(...(opts.services?.(ctx) ?? []));
    const extra = services.flatMap((svc) => (svc.plugin ? [svc.plugin] : []));
    app = await buildApp(ctx, [...plugins, ...extra]);
    await app.listen({ port: opts.port ?? config.listen.port, host: opts.host ?? config.listen.host });
  } catch (e) {
    await stopServices();
    store.close();
    throw e;
  }
  const addr = app.server.address() as AddressInfo;
  // A download from the engine itself (a URL or a redirect to it) is refused.
  ctx.files.selfPort = addr.port;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closed = false;
  return {
    app,
    ctx,
    url: `${tls ? 'https' : 'http'}://${host}:${addr.port}`,
    async close() {
      if (closed) return;
      closed = true;
      ac.abort(new Error('server shutting down'));
      ctx.operations.cancelAll('server shutting down');
      await stopServices();
      await app.close();
      store.close();
    },
  };
}
