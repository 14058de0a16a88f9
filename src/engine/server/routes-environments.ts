import type { FastifyPluginAsync } from 'fastify';
import {
  descriptionBodySchema,
  ENV_NAME_PATTERN,
  ENV_PATTERN_PATTERN,
  USER_PATTERN,
  uploadsSchema,
} from '../../api/schemas.js';
import type { UploadedFile } from '../../api/uploaded-file.js';
import type { Visibility } from '../../formats/environment/types.js';
import {
  addEnvironment,
  deleteEnvironment,
  findEnvironment,
  listEnvironments,
  prepareEnvironment,
  updateEnvironment,
} from '../environments/environment-service.js';
import { moveEnvironmentFiles } from '../environments/move-files.js';
import type { StoredEnvironment } from '../store/environments-repo.js';
import type { EngineContext } from './context.js';
import { requestSignal } from './request-signal.js';

/** The environment as the API shows it (the row id is internal). */
function envJson(e: StoredEnvironment) {
  const { id: _id, ...rest } = e;
  return rest;
}

interface DescriptionBody {
  description: string;
  file?: string;
  uploads?: UploadedFile[];
}

const versionSchema = { type: 'integer', minimum: 0, maximum: 1000000 } as const;

/** /environments: list, resolve, add, anonymous check, update tags/checksums, delete. */
export const environmentsRoutes: FastifyPluginAsync<{ ctx: EngineContext }> = async (app, { ctx }) => {
  app.get<{ Querystring: { user?: string; name?: string; all_versions?: boolean } }>(
    '/environments',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            user: { type: 'string', pattern: USER_PATTERN },
            name: { type: 'string', pattern: ENV_PATTERN_PATTERN },
            all_versions: { type: 'boolean' },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      return listEnvironments(ctx, request.user, {
        ...(q.user !== undefined ? { user: q.user } : {}),
        ...(q.name !== undefined ? { pattern: q.name } : {}),
        allVersions: q.all_versions === true,
      }).map(envJson);
    },
  );

  app.get<{ Querystring: { name: string; user?: string; version?: number } }>(
    '/environments/resolve',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', pattern: ENV_NAME_PATTERN },
            user: { type: 'string', pattern: USER_PATTERN },
            version: versionSchema,
          },
        },
      },
    },
    async (request) => envJson(findEnvironment(ctx, request.user, request.query)),
  );

  app.post<{ Body: DescriptionBody }>(
    '/environments',
    { schema: { body: descriptionBodySchema } },
    async (request, reply) => {
      const b = request.body;
      const { env, warnings } = await addEnvironment(
        ctx,
        request.user,
        { description: b.description, file: b.file ?? 'description', uploads: b.uploads ?? [] },
        requestSignal(ctx, reply),
      );
      request.log.info({ user: request.user.name, env: `${env.name}:${env.version}` }, 'environment added');
      return reply.code(201).send({ environment: envJson(env), warnings });
    },
  );

  // Anonymous deployments (kadeploy3 -a FILE): parsed and checked like an add, never recorded.
  app.post<{ Body: DescriptionBody }>(
    '/environments/anonymous',
    { schema: { body: descriptionBodySchema } },
    async (request, reply) => {
      const b = request.body;
      const { env, warnings } = await prepareEnvironment(
        ctx,
        request.user,
        { description: b.description, file: b.file ?? 'description', uploads: b.uploads ?? [] },
        requestSignal(ctx, reply),
      );
      return { environment: env, warnings };
    },
  );

  // kaenv3 --move-files -m SRC::DST: the site moved its images (admins).
  app.post<{ Body: { moves: { from: string; to: string }[] } }>(
    '/environments/move-files',
    {
      schema: {
        body: {
          type: 'object',
          required: ['moves'],
          additionalProperties: false,
          properties: {
            moves: {
              type: 'array',
              minItems: 1,
              maxItems: 64,
              items: {
                type: 'object',
                required: ['from', 'to'],
                additionalProperties: false,
                properties: {
                  from: { type: 'string', minLength: 1, maxLength: 4096, pattern: '^[^\\n\\r\\u0000]*$' },
                  to: { type: 'string', minLength: 1, maxLength: 4096, pattern: '^[^\\n\\r\\u0000]*$' },
                },
              },
            },
          },
        },
      },
    },
    async (request) => moveEnvironmentFiles(ctx, request.user, request.body.moves),
  );

  const itemParams = {
    type: 'object',
    required: ['user', 'name'],
    properties: {
      user: { type: 'string', pattern: USER_PATTERN },
      name: { type: 'string', pattern: ENV_NAME_PATTERN },
    },
  } as const;
  const itemQuery = {
    type: 'object',
    additionalProperties: false,
    properties: { version: versionSchema },
  } as const;

  app.put<{
    Params: { user: string; name: string };
    Querystring: { version?: number };
    Body: {
      visibility?: Visibility;
      toggle_destructive?: boolean;
      update_image_checksum?: boolean;
      update_postinstalls_checksum?: boolean;
      uploads?: UploadedFile[];
    };
  }>(
    '/environments/:user/:name',
    {
      schema: {
        params: itemParams,
        querystring: itemQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            visibility: { type: 'string', enum: ['public', 'shared', 'private'] },
            toggle_destructive: { type: 'boolean' },
            update_image_checksum: { type: 'boolean' },
            update_postinstalls_checksum: { type: 'boolean' },
            uploads: uploadsSchema,
          },
        },
      },
    },
    async (request, reply) => {
      const { user, name } = request.params;
      const b = request.body;
      const env = await updateEnvironment(
        ctx,
        request.user,
        { name, user, ...(request.query.version !== undefined ? { version: request.query.version } : {}) },
        {
          ...(b.visibility !== undefined ? { visibility: b.visibility } : {}),
          toggleDestructive: b.toggle_destructive === true,
          updateImageChecksum: b.update_image_checksum === true,
          updatePostinstallsChecksum: b.update_postinstalls_checksum === true,
          uploads: b.uploads ?? [],
        },
        requestSignal(ctx, reply),
      );
      return envJson(env);
    },
  );

  app.delete<{ Params: { user: string; name: string }; Querystring: { version?: number } }>(
    '/environments/:user/:name',
    { schema: { params: itemParams, querystring: itemQuery } },
    async (request) => {
      const { user, name } = request.params;
      const v = request.query.version;
      return deleteEnvironment(ctx, request.user, {
        name,
        user,
        ...(v !== undefined ? { version: v } : {}),
      }).map(envJson);
    },
  );
};
