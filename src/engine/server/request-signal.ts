import type { FastifyReply } from 'fastify';
import type { EngineContext } from './context.js';

/**
 * The signal for work done on behalf of one request: aborted when the engine shuts down or when
 * the client goes away before its answer was sent (a download or checksum nobody waits for).
 */
export function requestSignal(ctx: EngineContext, reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ac.abort(new Error('client went away'));
  });
  return AbortSignal.any([ctx.signal, ac.signal]);
}
