import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGzip, gzip } from 'node:zlib';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { yamlNestingProblem } from '../../common/config/yaml-source.js';
import { KaployError } from '../../common/errors.js';
import type { KadeployApiConfig } from '../../common/site-config.js';
import type { EngineServices } from '../operations/engine-services.js';
import { limitedServerFactory } from '../server/connection-limits.js';
import type { EngineContext } from '../server/context.js';
import { installKadeployAuth } from './auth.js';
import { KadeployConsoles } from './console-channels.js';
import { kadeployErrorHandler, sendKadeployError } from './errors.js';
import { consoleRoutes } from './routes-console.js';
import { deploymentRoutes } from './routes-deployment.js';
import { environmentRoutes } from './routes-environments.js';
import { infoRoutes } from './routes-info.js';
import { nodeOpRoutes } from './routes-nodeops.js';
import { nodesRoutes } from './routes-nodes.js';
import { siteRoutes } from './routes-site.js';
import { statsRoutes } from './routes-stats.js';
import { KadeployWorkflows } from './workflows.js';

/** Kadeploy's bodies are small hashes; environments and keys included, 4 MiB is plenty. */
const BODY_LIMIT = 4 * 1024 * 1024;

/** Every route family of the listener, under the configured path root. */
export function registerKadeployRoutes(
  app: FastifyInstance,
  ctx: EngineContext,
  api: KadeployApiConfig,
  services: () => EngineServices,
): void {
  const wf = new KadeployWorkflows(ctx, () => services().operations);
  infoRoutes(app, ctx, api);
  deploymentRoutes(app, ctx, wf, api.prefix, services);
  nodeOpRoutes(app, ctx, wf, api.prefix, services);
  environmentRoutes(app, ctx);
  siteRoutes(app, ctx);
  nodesRoutes(app, ctx);
  statsRoutes(app, ctx);
  consoleRoutes(app, new KadeployConsoles(() => services().consoles), api.prefix);
}

/**
 * The Kadeploy-compatible listener's app: its own authentication (Basic or a trusted proxy's
 * header), its own error format (errors.ts), trailing slashes accepted, JSON or YAML bodies, and
 * the routes under `api.prefix`. Built beside the engine's app, on the same context and services.
 */
export async function buildKadeployApp(
  ctx: EngineContext,
  api: KadeployApiConfig,
  services: () => EngineServices,
  describe?: (app: FastifyInstance) => Promise<void>,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger.child({ part: 'kadeploy-api' }) as FastifyBaseLogger,
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
    // A URL that does not decode (`/files/%s%n`) is refused before routing: same error format.
    frameworkErrors: (error, request, reply) => kadeployErrorHandler(error, request, reply),
    bodyLimit: BODY_LIMIT,
    // The engine's connection limits, counted for this listener on its own.
    serverFactory: limitedServerFactory(ctx.config.listen, ctx.logger, ctx.tls),
  });
  app.setErrorHandler(kadeployErrorHandler);
  app.setNotFoundHandler((request, reply) => {
    void sendKadeployError(
      reply,
      new KaployError('KAPLOY_NOT_FOUND', `File not found: ${request.method} ${request.url.split('?')[0]}`),
    );
  });
  // Kadeploy's clients may send YAML (doc/api intro: "Request's parameters").
  app.addContentTypeParser(
    ['application/x-yaml', 'application/yaml', 'text/yaml'],
    { parseAs: 'string' },
    (_request, body, done) => {
      try {
        // Nesting bounded before parsing and errors not prettified (quadratic: yaml-source.ts);
        // warnings (an unknown tag) not printed on the engine's stderr for every request.
        const tooDeep = yamlNestingProblem(body as string);
        if (tooDeep !== undefined) throw new Error(tooDeep);
        done(
          null,
          parseYaml(body as string, { maxAliasCount: 100, logLevel: 'error', prettyErrors: false }) ?? {},
        );
      } catch (e) {
        done(
          new KaployError(
            'KAPLOY_OPTION',
            `invalid request: the YAML body does not parse: ${(e as Error).message}`,
          ),
          undefined,
        );
      }
    },
  );
  installKadeployAuth(app, ctx, api);
  // Before the routes: times every request, as on the engine's listener.
  ctx.metrics?.http.install(app, 'kadeploy');
  // Kadeploy answers YAML to a client that asks for it (doc/api intro: "Output type and encoding").
  app.addHook('onSend', async (request, reply, payload) => {
    const type = String(reply.getHeader('content-type') ?? '');
    if (
      !type.startsWith('application/json') ||
      typeof payload !== 'string' ||
      !wantsYaml(request.headers.accept)
    )
      return payload;
    void reply.type('application/x-yaml; charset=utf-8');
    return stringifyYaml(JSON.parse(payload));
  });
  // Kadeploy's server gzips its JSON and YAML answers (and statistics) for a client that accepts
  // gzip; its text answers and errors are never compressed (common/httpd.rb, RequestHandler#output).
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode !== 200) return payload;
    // Kadeploy's answers are not to be cached (it sends these on every success).
    void reply.header('cache-control', 'no-store, no-cache').header('pragma', 'no-cache');
    const type = String(reply.getHeader('content-type') ?? '');
    if (!COMPRESSED_TYPES.test(type) || !acceptsGzip(request.headers['accept-encoding'])) return payload;
    // Statistics rows are streamed: compressed as they go.
    const stream = payload as Readable | null;
    if (stream && typeof stream.pipe === 'function') {
      void reply.header('content-encoding', 'gzip').header('vary', 'Accept-Encoding');
      reply.removeHeader('content-length');
      return stream.pipe(createGzip());
    }
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    void reply.header('content-encoding', 'gzip').header('vary', 'Accept-Encoding');
    return gzipAsync(payload);
  });
  if (describe) await describe(app);
  await app.register(async (scoped) => registerKadeployRoutes(scoped, ctx, api, services), {
    prefix: api.prefix,
  });
  return app;
}

const gzipAsync = promisify(gzip);
const COMPRESSED_TYPES = /^(application\/json|application\/x-yaml|text\/csv)\b/;

/**
 * Kadeploy's reading of Accept-Encoding: the listed codings, lower-cased, without their q-values;
 * a list naming `*` counts as no preference (no compression), as its server reads it.
 */
function acceptsGzip(header: string | undefined): boolean {
  if (!header?.trim()) return false;
  const codings = header.split(',').map((c) => c.split(';')[0]?.trim().toLowerCase());
  return !codings.includes('*') && codings.includes('gzip');
}

// YAML when the client names it and not JSON (or any type) before it; the default is JSON.
function wantsYaml(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((t) => t.split(';')[0]?.trim().toLowerCase());
  const yaml = types.findIndex(
    (t) => t === 'application/x-yaml' || t === 'application/yaml' || t === 'text/yaml',
  );
  const json = types.findIndex((t) => t === 'application/json' || t === '*/*');
  return yaml >= 0 && (json < 0 || yaml < json);
}
