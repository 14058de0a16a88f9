import type Database from 'better-sqlite3';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { KaployError } from '../common/errors.js';
import { exportStatsCsv } from './export-csv.js';
import { failureRates } from './failure-rates.js';
import { parseStatsQuery, type RawStatsQuery, STATS_OPERATIONS } from './query.js';

/**
 * What the stats routes need from the engine; the engine's EngineContext
 * (src/engine/server/context.ts) satisfies it.
 */
export interface StatsRouteContext {
  config: { site: string };
  store: { db: Database.Database };
  signal?: AbortSignal;
}

/** The query parameters of GET /stats, as a JSON schema: structure here, meaning in parseStatsQuery. */
const text = (maxLength: number) => ({ type: 'string', maxLength }) as const;
const STATS_QUERY_SCHEMA = {
  type: 'object',
  properties: {
    kind: text(32),
    fields: text(2000),
    node: { type: 'array', items: text(1000), maxItems: 10_000 },
    from: text(64),
    to: text(64),
    wid: text(200),
    operation: text(32),
    min_retries: text(32),
    step: { type: 'array', items: text(8), maxItems: 3 },
    min_rate: text(32),
    limit: text(32),
    sort: text(2000),
    header: text(8),
  },
} as const;
const KNOWN_PARAMS = Object.keys(STATS_QUERY_SCHEMA.properties);

/**
 * GET /stats and GET /stats/deploy|reboot|power, with kastat3's filters as query parameters.
 * Rows answer as `text/csv`, streamed from the store; failure rates (kind=failure-rate) as JSON
 * `{rates: [{node, rate, operations, failures}]}`. Any authenticated user may read statistics,
 * as with Kadeploy's kastat3.
 */
export const statsRoutes: FastifyPluginAsync<{ ctx: StatsRouteContext }> = async (app, { ctx }) => {
  const handler = (pathOperation?: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    const raw = checkedQuery(request, pathOperation);
    const query = parseStatsQuery(raw);
    if (query.kind === 'failure-rate') {
      return { rates: failureRates(ctx.store.db, query) };
    }
    // Stop reading the store when the client goes away or the engine shuts down.
    const ac = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) ac.abort(new Error('client closed the connection'));
    });
    const signal = ctx.signal ? AbortSignal.any([ac.signal, ctx.signal]) : ac.signal;
    const body = exportStatsCsv(ctx.store.db, query, { site: ctx.config.site, signal });
    return reply.type('text/csv; charset=utf-8').send(body);
  };
  const route = { schema: { querystring: STATS_QUERY_SCHEMA }, attachValidation: true } as const;
  app.get('/stats', route, handler());
  for (const op of STATS_OPERATIONS) app.get(`/stats/${op}`, route, handler(op));
};

function checkedQuery(request: FastifyRequest, pathOperation?: string): RawStatsQuery {
  if (request.validationError) {
    throw new KaployError('KAPLOY_OPTION', `invalid statistics query: ${request.validationError.message}`);
  }
  // fastify's Ajv drops unknown properties silently; a misspelt filter must not widen the answer.
  const names = new URL(request.url, 'http://x').searchParams.keys();
  for (const name of names) {
    if (!KNOWN_PARAMS.includes(name)) {
      throw new KaployError(
        'KAPLOY_OPTION',
        `unknown statistics query parameter '${name}': known are ${KNOWN_PARAMS.join(', ')}`,
        { key: name },
      );
    }
  }
  const raw = { ...(request.query as RawStatsQuery) };
  if (pathOperation !== undefined) {
    if (raw.operation !== undefined && raw.operation !== pathOperation) {
      throw new KaployError(
        'KAPLOY_CONFLICTING_OPTIONS',
        `operation=${raw.operation} conflicts with /stats/${pathOperation}`,
      );
    }
    raw.operation = pathOperation;
  }
  return raw;
}
