import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { KaployError } from '../../common/errors.js';

/**
 * Errors as Kadeploy 3.3's server answers them (doc/api intro, "Errors management"): an
 * application error is 400 with its number in `X-Application-Error-Code` and its message, base64,
 * in `X-Application-Error-Info`, the message again as the text/plain body; authentication is a
 * plain 401, an unknown resource a plain 404. The code and message are the ones kaploy's own API
 * gives for the same refusal (the same services throw them); only the envelope differs.
 */
function kadeployStatus(e: KaployError): number {
  switch (e.code) {
    case 'KAPLOY_AUTH':
      return 401;
    case 'KAPLOY_NOT_FOUND':
      return 404;
    case 'KAPLOY_INTERNAL':
      return 500;
    default:
      return 400;
  }
}

/** Kadeploy's number: kaploy's own codes (>= 100) have none, except a checksum (an invalid file). */
function kadeployCode(e: KaployError): number {
  return e.code === 'KAPLOY_CHECKSUM' ? 5 : e.appCode;
}

/**
 * Most characters of the message the header carries: a message quoting a 150 KB option name made
 * a header no HTTP client reads (Node's and undici's limit is 16 KiB for all headers together),
 * so the refusal itself was lost. The body keeps the whole message.
 */
const MAX_HEADER_INFO = 2000;

export function sendKadeployError(reply: FastifyReply, e: KaployError): FastifyReply {
  const status = kadeployStatus(e);
  const info = e.message.length > MAX_HEADER_INFO ? `${e.message.slice(0, MAX_HEADER_INFO)}...` : e.message;
  // A header carries no line break: the message is sent in base64 (cut), and whole in the body.
  if (status === 400)
    void reply
      .header('X-Application-Error-Code', String(kadeployCode(e)))
      .header('X-Application-Error-Info', Buffer.from(info, 'utf8').toString('base64'));
  // The challenge tells Basic clients (curl, requests, Kadeploy's --http-user) what to send.
  if (status === 401) void reply.header('WWW-Authenticate', 'Basic realm="kaploy", charset="UTF-8"');
  return reply.code(status).type('text/plain; charset=utf-8').send(e.message);
}

/** The listener's one error boundary: schema violations are invalid options (4), as in the engine. */
export function kadeployErrorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  let e: KaployError;
  if (error instanceof KaployError) e = error;
  else if ('validation' in error && error.validation) {
    e = new KaployError('KAPLOY_OPTION', `invalid request: ${error.message}`);
  } else if ('statusCode' in error && typeof error.statusCode === 'number' && error.statusCode < 500) {
    if (error.statusCode === 413) {
      void reply.code(413).type('text/plain; charset=utf-8').send(error.message);
      return;
    }
    e = new KaployError(
      error.statusCode === 404 ? 'KAPLOY_NOT_FOUND' : 'KAPLOY_OPTION',
      `invalid request: ${error.message}`,
    );
  } else {
    request.log.error({ err: error }, 'unexpected error');
    e = new KaployError('KAPLOY_INTERNAL', 'internal error in the kaploy server (see its log)');
  }
  void sendKadeployError(reply, e);
}
