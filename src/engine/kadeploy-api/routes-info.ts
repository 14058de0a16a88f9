import type { FastifyInstance } from 'fastify';
import type { KadeployApiConfig } from '../../common/site-config.js';
import { KAPLOY_VERSION } from '../../common/version.js';
import { parseAutomata } from '../../formats/force-steps.js';
import type { EngineContext } from '../server/context.js';

/**
 * The version Kadeploy's clients print and compare: the API it speaks, and (as semver build
 * metadata, ignored by comparisons) what really answers.
 */
export const KADEPLOY_API_VERSION = `3.3.0+kaploy.${KAPLOY_VERSION}`;

/** The file systems the deployment environment formats (docs/steps.md). */
const SUPPORTED_FS = ['ext2', 'ext3', 'ext4', 'xfs'];

/** GET /version and /auth_headers_prefix (no credentials needed), /info, /clusters. */
export function infoRoutes(app: FastifyInstance, ctx: EngineContext, api: KadeployApiConfig): void {
  const open = { config: { kadeployPublic: true } };
  app.get('/version', open, async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(KADEPLOY_API_VERSION),
  );
  app.get('/auth_headers_prefix', open, async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(api.headerPrefix),
  );
  app.get('/clusters', async () => ctx.config.clusters.map((c) => c.name));
  app.get('/info', async () => ({
    pxe: 'PXElinux',
    automata: Object.fromEntries(
      ctx.config.clusters.map((c) => [
        c.name,
        Object.fromEntries(
          Object.entries(parseAutomata(c.automata, c.name)).map(([macro, impls]) => [
            macro,
            impls.map((i) => ({ name: i.impl, retries: i.retries, timeout: i.timeoutSec })),
          ]),
        ),
      ]),
    ),
    supported_fs: Object.fromEntries(ctx.config.clusters.map((c) => [c.name, SUPPORTED_FS])),
    // kaploy runs no custom scripts with KADEPLOY_* variables (custom operations are refused).
    vars: [],
  }));
}
