import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { KAPLOY_VERSION } from '../../common/version.js';
import { kadeployOpenApi } from '../kadeploy-api/openapi.js';

/** The document's fixed parts; the paths come from the route schemas. */
const OPENAPI_BASE: FastifyDynamicSwaggerOptions['openapi'] = {
  openapi: '3.1.0',
  info: {
    title: 'kaploy site engine',
    description:
      'The REST API of a kaploy site engine. Errors are `{ error: { code, appCode, message, fields } }` ' +
      '(400 bad input, 401 authentication, 403 rights, 404 unknown, 500).',
    version: KAPLOY_VERSION,
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the user token' } },
  },
  security: [{ bearer: [] }],
};

/**
 * Makes `app` describe itself: registers @fastify/swagger, which records every route added after it
 * (so call this before the route plugins), and serves the document at `GET /openapi.json`. The
 * route goes through authentication like every other one: the same document is committed as
 * docs/openapi.json for readers without a token (see docs/decisions/0010-openapi-from-route-schemas.md).
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  // The Kadeploy-compatible listener is another server: described beside the engine's paths.
  const openapi = { ...OPENAPI_BASE, 'x-kadeploy-api': await kadeployOpenApi() };
  await app.register(swagger, { openapi: openapi as FastifyDynamicSwaggerOptions['openapi'] });
  app.get('/openapi.json', async () => app.swagger());
}
