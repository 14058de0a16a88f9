import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FastifyPluginAsync, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { FileCache } from '../../../src/engine/environments/file-cache.js';
import { routePlugins, startEngine } from '../../../src/engine/main.js';
import { EngineMetrics } from '../../../src/engine/metrics/engine-metrics.js';
import { createRestoreRoutes } from '../../../src/engine/oar-restore/routes-restores.js';
import { createEngineServices } from '../../../src/engine/operations/engine-services.js';
import { buildApp, type EnginePlugin } from '../../../src/engine/server/app.js';
import type { EngineContext } from '../../../src/engine/server/context.js';
import {
  buildOpenApiDocument,
  checkOpenApiFile,
  type OpenApiDocument,
  renderOpenApi,
  writeOpenApiFile,
} from '../../../src/engine/server/openapi.js';
import { OperationRegistry } from '../../../src/engine/server/operations-registry.js';
import type { RunningServer } from '../../../src/engine/server/start.js';
import { openStore } from '../../../src/engine/store/store.js';
import { makeSite, type TestSite } from '../helpers/site.js';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
// Runs dist/ (built once for the run by test/global/build-dist.ts).
const SCRIPT = path.join(ROOT, 'scripts', 'openapi.mjs');

interface SeenRoute {
  method: string;
  url: string;
  body: unknown;
  query: string[];
}

/** Routes a plugin hid from the document (the dashboard's pages). */
const hidden: string[] = [];

/** Each plugin in its own context with an onRoute hook: every route it registers, as fastify saw it. */
function recording(plugins: readonly EnginePlugin[], seen: SeenRoute[]): EnginePlugin[] {
  return plugins.map(
    (p): EnginePlugin =>
      async (app, opts) => {
        app.addHook('onRoute', (r: RouteOptions) => {
          const schema = (r.schema ?? {}) as {
            body?: unknown;
            querystring?: { properties?: object };
            hide?: boolean;
          };
          // The dashboard's pages are not API: hidden from the document, and only they may be.
          if (schema.hide) {
            expect(r.url, 'a route hidden from the OpenAPI document').toMatch(/^\/ui(\/|$)/);
            hidden.push(r.url);
            return;
          }
          for (const method of [r.method].flat()) {
            if (method === 'HEAD') continue; // fastify's implicit HEAD of each GET
            seen.push({
              method: method.toLowerCase(),
              url: r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
              body: schema.body,
              query: Object.keys(schema.querystring?.properties ?? {}),
            });
          }
        });
        await (p as FastifyPluginAsync<{ ctx: EngineContext }>)(app, opts);
      },
  );
}

/**
 * The document writes `const: X` as `enum: [X]` (the same constraint, in the form every OpenAPI
 * version knows); anything else must be the route's schema as is.
 */
function asDocumented(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(asDocumented);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'const') out.enum = [v];
    else out[k] = asDocumented(v);
  }
  return out;
}

let site: TestSite;
let dir: string;
let doc: OpenApiDocument;

beforeAll(async () => {
  site = makeSite({ users: ['alice'] });
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-openapi-test-'));
  doc = await buildOpenApiDocument();
});

afterAll(() => {
  site?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the OpenAPI document', () => {
  it('lists every route fastify registers, with its method, body schema and query parameters', async () => {
    const seen: SeenRoute[] = [];
    const store = openStore(':memory:');
    const ctx: EngineContext = {
      config: site.config,
      store,
      operations: new OperationRegistry(),
      logger: silentLogger,
      files: new FileCache(site.config.dataDir),
      signal: new AbortController().signal,
    };
    const app = await buildApp(
      ctx,
      recording(
        [...routePlugins(createEngineServices(ctx), new EngineMetrics()), createRestoreRoutes()],
        seen,
      ),
    );
    try {
      await app.ready();
      // The same routes as the document the script writes (which was built on its own context).
      expect(app.swagger()).toEqual(doc);
    } finally {
      await app.close();
      store.close();
    }
    expect(seen.length).toBeGreaterThan(30);
    expect(hidden).toContain('/ui/login');
    for (const r of [...seen, { method: 'get', url: '/openapi.json', body: undefined, query: [] }]) {
      const op = doc.paths[r.url]?.[r.method] as
        | {
            requestBody?: { content: Record<string, { schema: unknown }> };
            parameters?: { in: string; name: string }[];
          }
        | undefined;
      expect(op, `${r.method} ${r.url}`).toBeDefined();
      if (r.body === undefined) expect(op?.requestBody, `${r.method} ${r.url}`).toBeUndefined();
      else
        expect(op?.requestBody?.content['application/json']?.schema, `${r.method} ${r.url}`).toEqual(
          asDocumented(r.body),
        );
      const query = (op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      expect(query.sort(), `${r.method} ${r.url}`).toEqual([...r.query].sort());
    }
    // And nothing the app does not serve.
    const documented = Object.entries(doc.paths).flatMap(([url, ops]) =>
      Object.keys(ops).map((m) => `${m} ${url}`),
    );
    expect(documented.sort()).toEqual(
      [...seen.map((r) => `${r.method} ${r.url}`), 'get /openapi.json'].sort(),
    );
  });

  it('covers the families a kaploy server serves, the OAR restores included', () => {
    expect(doc.paths['/deployment']).toHaveProperty('post');
    expect(doc.paths['/restores']).toHaveProperty('post');
    expect(doc.paths['/restores/retry']).toHaveProperty('post');
    expect(doc.paths['/rights']).toHaveProperty('delete');
    expect(doc).toMatchObject({ openapi: '3.1.0', security: [{ bearer: [] }] });
  });

  it('is rendered the same way every time (the committed file can be compared byte for byte)', async () => {
    expect(renderOpenApi(await buildOpenApiDocument())).toBe(renderOpenApi(doc));
    expect(renderOpenApi(doc).endsWith('}\n')).toBe(true);
  });

  it('is the committed docs/openapi.json (run npm run openapi after changing a route)', async () => {
    await expect(checkOpenApiFile(path.join(ROOT, 'docs', 'openapi.json'))).resolves.toBeUndefined();
  });
});

describe('check mode', () => {
  it('accepts the file writeOpenApiFile writes', async () => {
    const f = path.join(dir, 'current.json');
    await writeOpenApiFile(f);
    expect(readFileSync(f, 'utf8')).toBe(renderOpenApi(doc));
    await expect(checkOpenApiFile(f)).resolves.toBeUndefined();
  });

  it('detects a stale file: a route missing, a schema changed, formatting changed', async () => {
    const { '/restores/retry': _gone, ...fewer } = doc.paths;
    const changed = JSON.parse(renderOpenApi(doc)) as OpenApiDocument;
    (changed.info as { version: string }).version = '0.0.0-old';
    for (const [name, text] of [
      ['missing-route.json', renderOpenApi({ ...doc, paths: fewer })],
      ['changed.json', renderOpenApi(changed)],
      ['compact.json', JSON.stringify(doc)],
    ] as const) {
      const f = path.join(dir, name);
      writeFileSync(f, text);
      await expect(checkOpenApiFile(f)).rejects.toMatchObject({
        code: 'KAPLOY_FILE',
        message: expect.stringContaining('stale'),
      });
    }
  });

  it('fails on a missing file with KAPLOY_FILE', async () => {
    await expect(checkOpenApiFile(path.join(dir, 'none.json'))).rejects.toMatchObject({
      code: 'KAPLOY_FILE',
      fields: { file: path.join(dir, 'none.json') },
    });
  });
});

describe('scripts/openapi.mjs (npm run openapi)', () => {
  it('writes the document, then --check passes; a stale file makes --check exit 1', async () => {
    const f = path.join(dir, 'script.json');
    await exec('node', [SCRIPT, '--file', f]);
    expect(readFileSync(f, 'utf8')).toBe(renderOpenApi(doc));
    const ok = await exec('node', [SCRIPT, '--check', '--file', f]);
    expect(ok.stdout).toContain('up to date');
    writeFileSync(f, renderOpenApi({ ...doc, paths: {} }));
    const stale = await exec('node', [SCRIPT, '--check', '--file', f]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(stale).toMatchObject({ code: 1, stderr: expect.stringContaining('is stale') });
  });

  it('refuses unknown arguments with exit 3', async () => {
    const bad = await exec('node', [SCRIPT, '--chek']).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 3, stderr: expect.stringContaining('unknown argument --chek') });
    const noFile = await exec('node', [SCRIPT, '--file']).catch((e: { code: number; stderr: string }) => e);
    expect(noFile).toMatchObject({ code: 3, stderr: expect.stringContaining('--file needs') });
  });
});

describe('GET /openapi.json on a running engine', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startEngine(site.config, { port: 0, logger: silentLogger });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves the document of the routes it runs, to an authenticated caller', async () => {
    const served = (await site
      .client('alice', server.url)
      .request('GET', '/openapi.json')) as OpenApiDocument;
    expect(Object.keys(served.paths).sort()).toEqual(Object.keys(doc.paths).sort());
  });

  it('answers 401 without a token, like every route', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'KAPLOY_AUTH' } });
  });
});
