import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EngineContext } from '../server/context.js';
import type { Html } from './html.js';
import { type PageParts, page } from './layout.js';

/** Answers a request with a page of the logged-in user. */
export type SendPage = (
  title: string,
  body: Html,
  extra?: Pick<PageParts, 'scripts' | 'classic' | 'styles'>,
) => FastifyReply;

export function pageReply(ctx: EngineContext) {
  return (request: FastifyRequest, reply: FastifyReply): SendPage =>
    (title, body, extra = {}) =>
      reply.type('text/html; charset=utf-8').send(
        page({
          title,
          site: ctx.config.site,
          body,
          who: { session: request.uiSession, admin: request.user.admin },
          ...extra,
        }),
      );
}
