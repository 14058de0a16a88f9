import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
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

/**
 * A request Node's HTTP parser refuses before fastify sees it (headers over the size limit, a
 * broken request line, a bad chunk, the request deadline): answered in the same error format as
 * the rest of the API, then the connection is closed.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, what] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'the request did not arrive in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'the request headers are too large']
        : [400, 'the request is not valid HTTP'];
  const body = JSON.stringify({
    error: new KaployError('KAPLOY_OPTION', `invalid request: ${what}`).toJSON(),
  });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
