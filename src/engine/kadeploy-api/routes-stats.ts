import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KaployError } from '../../common/errors.js';
import { exportStatsCsv } from '../../stats/export-csv.js';
import { failureRates } from '../../stats/failure-rates.js';
import { DEFAULT_FIELDS } from '../../stats/fields.js';
import { parseStatsQuery, type RawStatsQuery } from '../../stats/query.js';
import type { EngineContext } from '../server/context.js';
import { requestSignal } from '../server/request-signal.js';
import { mergedParams, optString, type Params, refuseUnknown, stringList } from './params.js';

/**
 * Kadeploy 3.3's default fields of GET /stats (doc/api stats.api), in its order: the wid, then
 * kastat3's `-d` fields without anonymous_env, which 3.3's API does not list.
 */
const KADEPLOY_FIELDS = ['wid', ...DEFAULT_FIELDS.filter((f) => f !== 'anonymous_env')];

const KNOWN = [
  'user',
  'kind',
  'nodes',
  'fields',
  'sort',
  'min_failure_rate',
  'date_min',
  'date_max',
  'wid',
  'min_retries',
  'step_retries',
];

/** An RFC 2616 date (`Fri, 10 Jan 2014 10:10:00 GMT`, or the two older forms HTTP allows) as epoch seconds. */
function httpDate(p: Params, key: string): string | undefined {
  const v = optString(p, key, 64);
  if (v === undefined) return undefined;
  const rfc1123 = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
  const rfc850 = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
  const asctime = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;
  const ms = Date.parse(asctime.test(v) ? `${v} GMT` : v);
  if (!(rfc1123.test(v) || rfc850.test(v) || asctime.test(v)) || Number.isNaN(ms))
    throw new KaployError(
      'KAPLOY_OPTION',
      `invalid ${key} '${v}': expected an RFC 2616 date (Fri, 10 Jan 2014 10:10:00 GMT)`,
    );
  return String(Math.floor(ms / 1000));
}

/** Kadeploy's statistics parameters as the query kastat3 sends the engine (parsed by the same parser). */
function rawQuery(p: Params, operation?: string): RawStatsQuery {
  refuseUnknown(p, KNOWN);
  const kind = optString(p, 'kind', 32) ?? 'all';
  if (kind !== 'all' && kind !== 'failure_rates')
    throw new KaployError('KAPLOY_OPTION', `invalid kind '${kind}': expected all or failure_rates`);
  const minRetries = optString(p, 'min_retries', 16);
  const rate = optString(p, 'min_failure_rate', 32);
  const fields = stringList(p, 'fields', 32);
  const sort = stringList(p, 'sort', 32);
  const nodes = stringList(p, 'nodes', 100_000);
  const steps = stringList(p, 'step_retries', 3);
  const from = httpDate(p, 'date_min');
  const to = httpDate(p, 'date_max');
  const wid = optString(p, 'wid', 200);
  if (rate !== undefined && !/^(0(\.\d+)?|1(\.0+)?)$/.test(rate))
    throw new KaployError(
      'KAPLOY_OPTION',
      `invalid min_failure_rate '${rate}': expected a number from 0 to 1`,
    );
  return {
    kind: kind === 'failure_rates' ? 'failure-rate' : minRetries !== undefined ? 'retries' : 'list',
    ...(kind === 'all' ? { fields: (fields ?? KADEPLOY_FIELDS).join(',') } : {}),
    ...(sort ? { sort: sort.join(',') } : {}),
    ...(nodes ? { node: nodes } : {}),
    ...(steps ? { step: steps } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(wid !== undefined ? { wid } : {}),
    ...(minRetries !== undefined ? { min_retries: minRetries } : {}),
    ...(rate !== undefined ? { min_rate: String(Number(rate) * 100) } : {}),
    ...(operation !== undefined ? { operation } : {}),
  };
}

/**
 * GET /stats[/deploy|reboot|power]: rows as text/csv (Kadeploy's fields by default, no header),
 * failure rates as `{node: rate}` with rates from 0 to 1. The engine's statistics, read by the
 * same parser and SQL as kastat3's (the native GET /stats).
 */
export function statsRoutes(app: FastifyInstance, ctx: EngineContext): void {
  const handler = (operation?: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    const query = parseStatsQuery(rawQuery(mergedParams(request.query, undefined), operation));
    if (query.kind === 'failure-rate')
      return Object.fromEntries(failureRates(ctx.store.db, query).map((r) => [r.node, r.rate / 100]));
    const body = exportStatsCsv(ctx.store.db, query, {
      site: ctx.config.site,
      signal: requestSignal(ctx, reply),
    });
    return reply.type('text/csv; charset=utf-8').send(body);
  };
  app.get('/stats', handler());
  for (const op of ['deploy', 'reboot', 'power']) app.get(`/stats/${op}`, handler(op));
}
