import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { KaployError } from '../../common/errors.js';
import { statusOf } from './http-errors.js';

/**
 * Every error leaves the engine as `{error: {code, appCode, message, fields}}`. Schema violations
 * are KAPLOY_OPTION; anything unexpected is logged and answered as KAPLOY_INTERNAL without its
 * details (they may name server paths).
 */
export function errorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  let e: KaployError;
  if (error instanceof KaployError) e = error;
  else if ('validation' in error && error.validation) {
    e = new KaployError('KAPLOY_OPTION', `invalid request: ${error.message}`);
  } else if ('statusCode' in error && typeof error.statusCode === 'number' && error.statusCode < 500) {
    e = new KaployError(
      error.statusCode === 404 ? 'KAPLOY_NOT_FOUND' : 'KAPLOY_OPTION',
      `invalid request: ${error.message}`,
    );
  } else {
    request.log.error({ err: error }, 'unexpected error');
    e = new KaployError('KAPLOY_INTERNAL', 'internal error in the kaploy server (see its log)');
  }
  const status = 'statusCode' in error && error.statusCode === 413 ? 413 : statusOf(e);
  if (status >= 500) request.log.error({ err: error }, e.message);
  void reply.code(status).send({ error: e.toJSON() });
}
