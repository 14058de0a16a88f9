import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ENV_NAME_PATTERN, ENV_PATTERN_PATTERN, USER_PATTERN } from '../../api/schemas.js';
import { printDescription } from '../../formats/environment/print.js';
import { findEnvironment, listEnvironments } from '../environments/environment-service.js';
import type { EngineContext } from '../server/context.js';
import type { StoredEnvironment } from '../store/environments-repo.js';
import { html } from './html.js';
import type { SendPage } from './reply-page.js';

/** kaenv3 -l's columns; its description column holds 35 characters (the whole text in the title). */
function listBody(envs: readonly StoredEnvironment[], q: { user?: string; name?: string; all?: boolean }) {
  return html`<form method="get" class="filters">
<label>User (-u) <input name="user" value="${q.user ?? ''}" maxlength="32"></label>
<label>Name (% wildcards) <input name="name" value="${q.name ?? ''}" maxlength="128"></label>
<label><input type="checkbox" name="all_versions" value="true"${q.all ? html` checked` : ''}> all versions (--all-versions)</label>
<button type="submit">List</button></form>
${
  envs.length === 0
    ? html`<p>No environment has been found</p>`
    : html`<table class="envs"><thead><tr><th>Name</th><th>Version</th><th>User</th><th>Description</th></tr></thead><tbody>
${envs.map(
  (e) =>
    html`<tr><td><a href="/ui/environments/${e.user}/${e.name}?version=${e.version}">${e.name}</a></td><td>${e.version}</td><td>${e.user}</td><td title="${e.description}">${e.description.slice(0, 35)}</td></tr>\n`,
)}</tbody></table>`
}`;
}

/**
 * GET /ui/environments (the listing as kaenv3 -l shows it, with its filters) and
 * GET /ui/environments/:user/:name (the description as kaenv3 -p prints it), through the
 * environment service and its visibility rules, as GET /environments and /environments/resolve.
 */
export function environmentRoutes(
  app: FastifyInstance,
  ctx: EngineContext,
  send: (request: FastifyRequest, reply: FastifyReply) => SendPage,
): void {
  app.get<{ Querystring: { user?: string; name?: string; all_versions?: string } }>(
    '/ui/environments',
    {
      schema: {
        hide: true,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            // An empty field of the form is no filter.
            user: { type: 'string', pattern: `(${USER_PATTERN})|^$` },
            name: { type: 'string', pattern: `(${ENV_PATTERN_PATTERN})|^$` },
            all_versions: { type: 'string', enum: ['true'] },
          },
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const user = q.user || undefined;
      const name = q.name || undefined;
      const all = q.all_versions === 'true';
      const envs = listEnvironments(ctx, request.user, {
        ...(user !== undefined ? { user } : {}),
        ...(name !== undefined ? { pattern: name } : {}),
        allVersions: all,
      });
      return send(request, reply)(
        'Environments',
        listBody(envs, { ...(user ? { user } : {}), ...(name ? { name } : {}), all }),
      );
    },
  );

  app.get<{ Params: { user: string; name: string }; Querystring: { version?: number } }>(
    '/ui/environments/:user/:name',
    {
      schema: {
        hide: true,
        params: {
          type: 'object',
          required: ['user', 'name'],
          properties: {
            user: { type: 'string', pattern: USER_PATTERN },
            name: { type: 'string', pattern: ENV_NAME_PATTERN },
          },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { version: { type: 'integer', minimum: 0, maximum: 1000000 } },
        },
      },
    },
    async (request, reply) => {
      const { user, name } = request.params;
      const v = request.query.version;
      const env = findEnvironment(ctx, request.user, {
        user,
        name,
        ...(v !== undefined ? { version: v } : {}),
      });
      return send(request, reply)(
        `${env.name} version ${env.version} (${env.user})`,
        html`<pre class="description">${printDescription(env)}</pre>`,
      );
    },
  );
}
