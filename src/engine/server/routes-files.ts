import type { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { MD5_PATTERN } from '../../api/schemas.js';
import { KaployError } from '../../common/errors.js';
import type { EngineContext } from './context.js';
import { withStatus } from './http-errors.js';
import { requestSignal } from './request-signal.js';

/**
 * Image uploads from clients: `PUT /files/:md5` with the raw bytes. The engine checks the content
 * against the checksum in the URL and records that this user sent it; `GET /files/:md5` tells a
 * client whether it has to send it again.
 */
export const filesRoutes: FastifyPluginAsync<{ ctx: EngineContext }> = async (app, { ctx }) => {
  // Pass the body through as a stream: images are far too big to buffer.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  const params = {
    type: 'object',
    required: ['md5'],
    properties: { md5: { type: 'string', pattern: MD5_PATTERN } },
  } as const;

  app.get<{ Params: { md5: string } }>('/files/:md5', { schema: { params } }, async (request) => {
    const { md5 } = request.params;
    return { md5, present: ctx.files.has(md5) && ctx.store.uploads.has(md5, request.user.name) };
  });

  app.put<{ Params: { md5: string }; Body: Readable }>(
    '/files/:md5',
    { schema: { params } },
    async (request, reply) => {
      const { md5 } = request.params;
      // Any other body (JSON, a form) is parsed by fastify into an object, not a stream of bytes.
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/octet-stream') {
        throw withStatus(
          new KaployError(
            'KAPLOY_OPTION',
            `PUT /files/${md5}: send the image's bytes as application/octet-stream, not ${type || 'no content type'}`,
          ),
          415,
        );
      }
      const stored = await ctx.files.put(request.body, {
        expectedMd5: md5,
        signal: requestSignal(ctx, reply),
        what: `upload ${md5}`,
      });
      ctx.store.uploads.record(md5, request.user.name, stored.size);
      return reply.code(201).send(stored);
    },
  );
};
