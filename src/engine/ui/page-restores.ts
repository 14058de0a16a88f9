import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RestoreRow } from '../../api/restores.js';
import { KaployError } from '../../common/errors.js';
import { RestoresRepo } from '../oar-restore/restores-repo.js';
import type { EngineContext } from '../server/context.js';
import { html } from './html.js';
import { stateClass, when } from './layout.js';
import type { SendPage } from './reply-page.js';
import { checkCsrf } from './session-hook.js';

/** Rows shown per state at most (newest first): the page of a site with years of jobs stays small. */
const SHOWN = 500;

/** The same refusal as /restores gives a user who is not a site admin. */
function requireAdmin(request: FastifyRequest): void {
  if (!request.user.admin)
    throw new KaployError('KAPLOY_RIGHTS', 'only site administrators can read or request OAR restores');
}

function table(rows: readonly RestoreRow[], csrf: string, retry: boolean) {
  if (rows.length === 0) return html`<p>None.</p>`;
  return html`<table class="restores"><thead><tr><th>Job</th><th>Node</th><th>User</th><th>Production</th><th>State</th><th>Attempts</th><th>Reason</th><th>Updated</th>${retry ? html`<th></th>` : ''}</tr></thead><tbody>
${rows
  .slice(0, SHOWN)
  .map(
    (r) =>
      html`<tr><td>${r.job}</td><td><a href="/ui/nodes/${r.node}">${r.node}</a></td><td>${r.user}</td><td>${r.production}</td><td class="${stateClass(r.state)}">${r.state}</td><td>${r.attempts}</td><td class="reason">${r.reason}</td><td>${when(r.updated)}</td>${
        retry
          ? html`<td><form method="post" action="/ui/restores/retry"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="job" value="${r.job}"><button type="submit">Retry job ${r.job}</button></form></td>`
          : ''
      }</tr>\n`,
  )}</tbody></table>${rows.length > SHOWN ? html`<p>${rows.length - SHOWN} more not shown.</p>` : ''}`;
}

const RETRY_BODY = {
  type: 'object',
  required: ['csrf'],
  additionalProperties: false,
  properties: {
    csrf: { type: 'string', maxLength: 64 },
    job: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' },
  },
} as const;

/**
 * GET /ui/restores (admins): the OAR restores pending, running, failed (their nodes held out of
 * service, with the reasons) and superseded; POST /ui/restores/retry sets failed ones pending again, what `kaploy oar restores
 * --retry [--job J]` asks of POST /restores/retry. The worker picks them up at its next poll.
 */
export function restoresRoutes(
  app: FastifyInstance,
  ctx: EngineContext,
  send: (request: FastifyRequest, reply: FastifyReply) => SendPage,
): void {
  const repo = new RestoresRepo(ctx.store.db, { newestJobOn: (n) => ctx.store.rights.newestJobOn(n) });
  app.get<{ Querystring: { retried?: string } }>(
    '/ui/restores',
    {
      schema: {
        hide: true,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { retried: { type: 'string', pattern: '^[0-9]{1,9}$' } },
        },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const csrf = request.uiSession.csrf;
      const newest = (rows: RestoreRow[]) =>
        rows.sort((a, b) => b.updated - a.updated || a.node.localeCompare(b.node));
      const failed = newest(repo.list({ state: 'failed' }));
      return send(request, reply)(
        'OAR restores',
        html`${request.query.retried !== undefined ? html`<p class="notice" role="status">${request.query.retried} failed restores set pending again.</p>` : ''}
<h3>Failed: held out of OAR's scheduling, with the reason</h3>
${failed.length > 0 ? html`<form method="post" action="/ui/restores/retry"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Retry all failed</button></form>` : ''}
${table(failed, csrf, true)}
<h3>Pending and running</h3>${table(newest([...repo.list({ state: 'running' }), ...repo.list({ state: 'pending' })]), csrf, false)}
<h3>Superseded: a later job has the node</h3>${table(newest(repo.list({ state: 'superseded' })), csrf, false)}`,
      );
    },
  );

  app.post<{ Body: { csrf: string; job?: string } }>(
    '/ui/restores/retry',
    { schema: { hide: true, body: RETRY_BODY } },
    async (request, reply) => {
      requireAdmin(request);
      checkCsrf(request, request.body.csrf);
      const job = request.body.job === undefined ? undefined : Number(request.body.job);
      const retried = repo.retry(job !== undefined ? { job } : {}, Date.now());
      request.log.info({ user: request.user.name, job, retried }, 'oar restores retried from the dashboard');
      return reply.redirect(`/ui/restores?retried=${retried}`, 303);
    },
  );
}
