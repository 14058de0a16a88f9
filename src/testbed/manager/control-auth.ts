import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Whether an Authorization header carries the control API's bearer token. Compared in constant
 * time over digests, so neither the token's content nor its length leaks through timing.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || header.length > 1024) return false;
  const m = /^Bearer ([A-Za-z0-9_-]+)$/.exec(header);
  return timingSafeEqual(digest(m?.[1] ?? ''), digest(token)) && m !== null;
}
