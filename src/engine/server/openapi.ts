import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KaployError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { FileCache } from '../environments/file-cache.js';
import { routePlugins } from '../main.js';
import { EngineMetrics } from '../metrics/engine-metrics.js';
import { createRestoreRoutes } from '../oar-restore/routes-restores.js';
import { createEngineServices } from '../operations/engine-services.js';
import { openStore } from '../store/store.js';
import { buildApp } from './app.js';
import type { EngineContext } from './context.js';
import { defaultSiteConfig } from './default-config.js';
import { ensureEngineKey } from './engine-key.js';
import { OperationRegistry } from './operations-registry.js';

/** The OpenAPI document as it is served and committed (docs/openapi.json). */
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

/**
 * Builds the engine's OpenAPI document from the route schemas: the engine's app with every route
 * family a `kaploy server` serves (routePlugins and the OAR restores), built on a throw-away
 * context (a store in memory, a temporary data directory and engine key) and never listening.
 */
export async function buildOpenApiDocument(): Promise<OpenApiDocument> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'kaploy-openapi-'));
  const store = openStore(':memory:');
  try {
    const config = defaultSiteConfig(home);
    // The engine's services read the engine key.
    ensureEngineKey(config.ssh.keyFile);
    const ac = new AbortController();
    const ctx: EngineContext = {
      config,
      store,
      operations: new OperationRegistry(),
      logger: silentLogger,
      files: new FileCache(config.dataDir, config.cache),
      signal: ac.signal,
    };
    const app = await buildApp(ctx, [
      ...routePlugins(createEngineServices(ctx), new EngineMetrics()),
      createRestoreRoutes(),
    ]);
    try {
      await app.ready();
      return app.swagger() as unknown as OpenApiDocument;
    } finally {
      ac.abort();
      await app.close();
    }
  } finally {
    store.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** The committed form: stable indentation, one trailing newline. */
export function renderOpenApi(doc: OpenApiDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Writes the current document to `file`. */
export async function writeOpenApiFile(file: string): Promise<void> {
  writeFileSync(file, renderOpenApi(await buildOpenApiDocument()));
}

/**
 * Throws KAPLOY_FILE when `file` is missing or differs from the document the routes produce now
 * (a route or schema changed without `npm run openapi`).
 */
export async function checkOpenApiFile(file: string): Promise<void> {
  let have: string;
  try {
    have = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KaployError('KAPLOY_FILE', `cannot read ${file}: ${(e as Error).message}`, { file, cause: e });
  }
  if (have !== renderOpenApi(await buildOpenApiDocument()))
    throw new KaployError('KAPLOY_FILE', `${file} is stale: the route schemas changed; run npm run openapi`, {
      file,
    });
}
