import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { nodeIndex } from '../../common/site-config.js';
import { exportStatsCsv } from '../../stats/export-csv.js';
import { failureRates } from '../../stats/failure-rates.js';
import { parseStatsQuery, type RawStatsQuery } from '../../stats/query.js';
import type { EngineContext } from '../server/context.js';
import { html, jsonData } from './html.js';
import type { SendPage } from './reply-page.js';

/** The statistics form: kastat3's filters, by the names of its flags' long forms. */
interface StatsForm {
  from?: string;
  to?: string;
  node?: string;
  operation?: string;
  wid?: string;
  min_retries?: string;
  fields?: string;
  limit?: string;
  header?: string;
}

const text = (maxLength: number) => ({ type: 'string', maxLength }) as const;
const FORM_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: text(64),
    to: text(64),
    node: text(4000),
    operation: { type: 'string', enum: ['', 'deploy', 'reboot', 'power', 'all'] },
    wid: text(200),
    min_retries: text(16),
    fields: text(2000),
    limit: text(16),
    header: { type: 'string', enum: ['', 'true'] },
  },
} as const;

/**
 * The form as GET /stats's query, the way kastat3 maps its flags (src/client/stats/kastat-flags.ts):
 * -d (or -a NB with a minimum of retries), deployments only unless an operation or a workflow id is
 * given. Dates are read in the engine's time zone (kastat3 reads them in its user's).
 */
function statsQueryOf(f: StatsForm): RawStatsQuery {
  const raw: RawStatsQuery = { kind: f.min_retries ? 'retries' : 'list' };
  if (f.from) raw.from = f.from;
  if (f.to) raw.to = f.to;
  const nodes = (f.node ?? '').split(/[\s,]+/).filter(Boolean);
  if (nodes.length > 0) raw.node = nodes;
  if (f.wid) raw.wid = f.wid;
  const op = f.operation || (f.wid ? 'all' : 'deploy');
  if (op !== 'all') raw.operation = op;
  if (f.min_retries) raw.min_retries = f.min_retries;
  if (f.fields) raw.fields = f.fields;
  if (f.limit) raw.limit = f.limit;
  if (f.header === 'true') raw.header = 'true';
  return raw;
}

/** The form's own query string (the CSV link and the charts' data repeat the page's filters). */
function formQuery(f: StatsForm): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (typeof v === 'string' && v !== '') p.set(k, v);
  return p.toString();
}

function formBody(f: StatsForm) {
  const field = (name: keyof StatsForm, label: string, hint = '') =>
    html`<label>${label} <input name="${name}" value="${f[name] ?? ''}" placeholder="${hint}"></label>`;
  return html`<form method="get" class="filters">
${field('from', 'From (-x)', 'yyyy:mm:dd:hh:mm:ss')}${field('to', 'To (-y)', 'yyyy:mm:dd:hh:mm:ss')}
${field('node', 'Nodes (-m)', 'node-[1-4].site')}
<label>Operation (-o) <select name="operation">${['', 'deploy', 'reboot', 'power', 'all'].map(
    (o) =>
      html`<option value="${o}"${(f.operation ?? '') === o ? html` selected` : ''}>${o || 'deploy (default)'}</option>`,
  )}</select></label>
${field('wid', 'Workflow (-w)')}${field('min_retries', 'Min retries (-a)')}${field('fields', 'Fields (-F)', 'user,hostname,...')}${field('limit', 'Limit')}
<button type="submit">Filter</button></form>`;
}

/**
 * GET /ui/stats (charts and failure rates of the rows the filters keep), GET /ui/stats.csv (the
 * rows as kastat3 prints them: the same query and export as GET /stats). Statistics are every
 * user's to read, as with kastat3.
 */
export function statsRoutes(
  app: FastifyInstance,
  ctx: EngineContext,
  send: (request: FastifyRequest, reply: FastifyReply) => SendPage,
): void {
  const clusters = Object.fromEntries([...nodeIndex(ctx.config)].map(([n, c]) => [n, c.cluster]));

  app.get<{ Querystring: StatsForm }>(
    '/ui/stats',
    { schema: { hide: true, querystring: FORM_SCHEMA } },
    async (request, reply) => {
      const f = request.query;
      const raw = statsQueryOf(f);
      parseStatsQuery(raw); // a bad filter is a 400 page before anything is drawn
      const { min_retries: _m, fields: _f, limit: _l, header: _h, ...rest } = raw;
      const rates = failureRates(ctx.store.db, parseStatsQuery({ ...rest, kind: 'failure-rate' })).sort(
        (a, b) => b.rate - a.rate || a.node.localeCompare(b.node),
      );
      const q = formQuery(f);
      return send(request, reply)(
        'Statistics',
        html`${formBody(f)}
<p><a href="/ui/stats.csv${q ? `?${q}` : ''}" download="kastat3.csv" id="csv">Download CSV</a> (what <code>kastat3 -d</code> prints with these filters)</p>
<script type="application/json" id="clusters">${jsonData(clusters)}</script>
<div class="charts" id="charts" data-query="${q}"><noscript>The charts need JavaScript; the CSV and the rates below do not.</noscript></div>
<h3>Failure rate per node (worst first)</h3>
${
  rates.length === 0
    ? html`<p>No information is available</p>`
    : html`<table class="rates"><thead><tr><th>Node</th><th>Failure rate</th><th></th><th>Failures / operations</th></tr></thead><tbody>
${rates.map(
  (r) =>
    html`<tr><td>${r.node}</td><td>${r.rate.toFixed(2)}%</td><td><meter min="0" max="100" low="10" high="50" optimum="0" value="${r.rate.toFixed(2)}"></meter></td><td>${r.failures} / ${r.operations}</td></tr>\n`,
)}</tbody></table>`
}`,
        {
          classic: ['/ui/static/uPlot.iife.min.js'],
          scripts: ['/ui/static/stats.js'],
          styles: ['/ui/static/uPlot.min.css'],
        },
      );
    },
  );

  app.get<{ Querystring: StatsForm }>(
    '/ui/stats.csv',
    { schema: { hide: true, querystring: FORM_SCHEMA } },
    async (request, reply) => {
      const query = parseStatsQuery(statsQueryOf(request.query));
      const ac = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) ac.abort(new Error('client closed the connection'));
      });
      const body = exportStatsCsv(ctx.store.db, query, {
        site: ctx.config.site,
        signal: AbortSignal.any([ac.signal, ctx.signal]),
      });
      return reply.type('text/csv; charset=utf-8').send(body);
    },
  );
}
