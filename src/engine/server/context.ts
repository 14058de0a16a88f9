import type { Logger } from '../../common/logger.js';
import type { SiteConfig } from '../../common/site-config.js';
import type { FileCache } from '../environments/file-cache.js';
import type { EngineMetrics } from '../metrics/engine-metrics.js';
import type { Store } from '../store/store.js';
import type { OperationRegistry } from './operations-registry.js';
import type { ServerTls } from './tls.js';

/** What every route plugin and engine service gets: the site, the store, what runs, a logger. */
export interface EngineContext {
  config: SiteConfig;
  store: Store;
  operations: OperationRegistry;
  logger: Logger;
  /** Content-addressed image cache (uploads, downloaded URLs) in the data directory. */
  files: FileCache;
  /** Aborted when the engine shuts down. */
  signal: AbortSignal;
  /**
   * The engine's metrics (GET /metrics); absent in the short-lived contexts of admin commands
   * (`kaploy server add-env`) and of tests that build an app by hand, which serve no scrape.
   */
  metrics?: EngineMetrics;
  /** The certificate and key both listeners serve HTTPS with (server.tls_*); absent: plain HTTP. */
  tls?: ServerTls;
}
