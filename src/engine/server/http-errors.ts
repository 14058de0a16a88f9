import { KaployError, type KaployErrorCode, type KaployErrorFields } from '../../common/errors.js';

/**
 * HTTP status carried by an engine error. Most refusals are 400 with an application code, as in
 * Kadeploy; authentication is 401, rights 403, unknown things 404.
 */
const STATUS = Symbol.for('kaploy.httpStatus');

export function withStatus<E extends KaployError>(e: E, status: number): E {
  (e as unknown as Record<symbol, number>)[STATUS] = status;
  return e;
}

export function notFound(
  code: KaployErrorCode,
  message: string,
  fields: KaployErrorFields = {},
): KaployError {
  return withStatus(new KaployError(code, message, fields), 404);
}

export function statusOf(e: KaployError): number {
  const explicit = (e as unknown as Record<symbol, number | undefined>)[STATUS];
  if (explicit !== undefined) return explicit;
  switch (e.code) {
    case 'KAPLOY_AUTH':
      return 401;
    case 'KAPLOY_RIGHTS':
      return 403;
    case 'KAPLOY_NOT_FOUND':
      return 404;
    case 'KAPLOY_INTERNAL':
    case 'KAPLOY_DATABASE':
      return 500;
    default:
      return 400;
  }
}
