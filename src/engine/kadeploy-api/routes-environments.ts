import type { FastifyInstance } from 'fastify';
import { ENV_NAME_PATTERN, USER_PATTERN } from '../../api/schemas.js';
import { KaployError } from '../../common/errors.js';
import type { Visibility } from '../../formats/environment/types.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import {
  addEnvironment,
  deleteEnvironment,
  listEnvironments,
  updateEnvironment,
} from '../environments/environment-service.js';
import type { EngineContext } from '../server/context.js';
import { requestSignal } from '../server/request-signal.js';
import { checkClient, fetchClientFile } from './client-files.js';
import { descriptionOf, environmentHash } from './environment-hash.js';
import { mergedParams, optString, type Params, refuseUnknown, toggle } from './params.js';

const ITEM = {
  type: 'object',
  required: ['user', 'name'],
  properties: {
    user: { type: 'string', pattern: USER_PATTERN },
    name: { type: 'string', pattern: ENV_NAME_PATTERN },
    version: { type: 'string', pattern: '^[0-9]{1,7}$' },
  },
} as const;

const QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    last: { type: 'string', maxLength: 8 },
    username: { type: 'string', pattern: USER_PATTERN },
    name: { type: 'string', pattern: ENV_NAME_PATTERN },
    version: { type: 'string', pattern: '^[0-9]{1,7}$' },
    user: { type: 'string', pattern: USER_PATTERN },
  },
} as const;

type Item = { user: string; name: string; version?: string };

/**
 * /environments as Kadeploy 3.3 serves it (kaenv3, g5k-checks, reference-repository scripts):
 * GET with `last`, `username`, `name`, `version`; POST with the `environment` hash (its local files
 * fetched from the client's export); PUT and DELETE of /environments/:user/:name[/:version]. The
 * same environment service as the engine's routes: the same visibility, rights and checks.
 */
export function environmentRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.get<{ Querystring: { last?: string; username?: string; name?: string; version?: string } }>(
    '/environments',
    { schema: { querystring: QUERY } },
    async (request) => {
      const q = request.query;
      const version = q.version !== undefined ? Number(q.version) : undefined;
      const last = q.last !== undefined && q.last !== 'false';
      return listEnvironments(ctx, request.user, {
        ...(q.username !== undefined ? { user: q.username } : {}),
        // Kadeploy's name is exact; kaploy's list takes a pattern, '%' its only wildcard.
        ...(q.name !== undefined ? { pattern: q.name.replace(/%/g, '') } : {}),
        allVersions: !last,
      })
        .filter(
          (e) =>
            (q.name === undefined || e.name === q.name) && (version === undefined || e.version === version),
        )
        .map(environmentHash);
    },
  );

  app.get<{ Params: Item }>(
    '/environments/:user',
    { schema: { params: { ...ITEM, required: ['user'] } } },
    async (request) =>
      listEnvironments(ctx, request.user, { user: request.params.user, allVersions: true }).map(
        environmentHash,
      ),
  );
  app.get<{ Params: Item }>('/environments/:user/:name', { schema: { params: ITEM } }, async (request) =>
    listEnvironments(ctx, request.user, {
      user: request.params.user,
      pattern: request.params.name,
      allVersions: true,
    })
      .filter((e) => e.name === request.params.name)
      .map(environmentHash),
  );
  app.get<{ Params: Item }>(
    '/environments/:user/:name/:version',
    { schema: { params: ITEM } },
    async (request) =>
      listEnvironments(ctx, request.user, {
        user: request.params.user,
        pattern: request.params.name,
        allVersions: true,
      })
        .filter((e) => e.name === request.params.name && e.version === Number(request.params.version))
        .map(environmentHash),
  );

  app.post('/environments', async (request, reply) => {
    const p = mergedParams(request.query, request.body);
    refuseUnknown(p, ['user', 'client', 'environment']);
    const hash = p.environment as Params | undefined;
    if (!hash || typeof hash !== 'object' || Array.isArray(hash))
      throw new KaployError(
        'KAPLOY_ENVIRONMENT',
        'Invalid environment specification: environment is missing',
      );
    const client = checkClient(optString(p, 'client', 1024));
    const signal = requestSignal(ctx, reply);
    const { description, uploads } = await descriptionOf(hash, {
      client,
      fetch: (ref) =>
        fetchClientFile(ctx.files, ctx.store.uploads, request.user.name, client as string, ref, signal),
    });
    const { env } = await addEnvironment(
      ctx,
      request.user,
      { description, file: 'environment', uploads },
      signal,
    );
    return environmentHash(env);
  });

  const item = (params: Item) => ({
    user: params.user,
    name: params.name,
    ...(params.version !== undefined ? { version: Number(params.version) } : {}),
  });

  const update = async (
    params: Item,
    body: unknown,
    query: unknown,
    caller: AuthenticatedUser,
    signal: AbortSignal,
  ) => {
    const p = mergedParams(query, body);
    refuseUnknown(p, [
      'user',
      'visibility',
      'toggle_destructive',
      'destructive',
      'update_image_checksum',
      'update_postinstalls_checksum',
    ]);
    const visibility = optString(p, 'visibility', 16);
    if (visibility !== undefined && !['public', 'shared', 'private'].includes(visibility))
      throw new KaployError('KAPLOY_OPTION', `invalid request: visibility must be public, shared or private`);
    return environmentHash(
      await updateEnvironment(
        ctx,
        caller,
        item(params),
        {
          ...(visibility !== undefined ? { visibility: visibility as Visibility } : {}),
          toggleDestructive: toggle(p, 'toggle_destructive') || toggle(p, 'destructive'),
          updateImageChecksum: toggle(p, 'update_image_checksum'),
          updatePostinstallsChecksum: toggle(p, 'update_postinstalls_checksum'),
          uploads: [],
        },
        signal,
      ),
    );
  };
  for (const url of ['/environments/:user/:name', '/environments/:user/:name/:version']) {
    app.put<{ Params: Item }>(url, { schema: { params: ITEM } }, async (request, reply) =>
      update(request.params, request.body, request.query, request.user, requestSignal(ctx, reply)),
    );
    app.delete<{ Params: Item }>(url, { schema: { params: ITEM } }, async (request) =>
      deleteEnvironment(ctx, request.user, item(request.params)).map(environmentHash),
    );
  }
}
