import { errorMessage, isKaployError } from '../../common/errors.js';

/** A site's error as one log line (the site prefix is added by the stream it is written to). */
export function formatErrorLine(e: unknown): string {
  if (isKaployError(e)) return `error: ${e.message} [${e.code}]\n`;
  const o = e as { code?: unknown; message?: unknown };
  if (typeof o?.code === 'string' && typeof o.message === 'string')
    return `error: ${o.message} [${o.code}]\n`;
  return `error: ${errorMessage(e)}\n`;
}
