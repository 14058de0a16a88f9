import type { Readable } from 'node:stream';
import { KaployError } from '../../common/errors.js';
import type { FileCache } from './file-cache.js';
import { httpGet } from './http-get.js';

/**
 * Downloads an http(s) image into the cache (once: the cache is keyed by checksum) and returns its
 * checksum. With `expectedMd5` a different content is a KAPLOY_CHECKSUM error and is not kept.
 */
export async function fetchIntoCache(
  cache: FileCache,
  url: string,
  opts: { expectedMd5?: string; signal?: AbortSignal } = {},
): Promise<{ md5: string; size: number }> {
  if (opts.expectedMd5 && cache.has(opts.expectedMd5))
    return { md5: opts.expectedMd5, size: cache.size(opts.expectedMd5) };
  let body: Readable;
  try {
    body = await httpGet(url, opts.signal);
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new KaployError('KAPLOY_FILE', `cannot download ${url}: ${(e as Error).message}`, {
      file: url,
      cause: e,
    });
  }
  return cache.put(body, {
    ...(opts.expectedMd5 !== undefined ? { expectedMd5: opts.expectedMd5 } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    what: url,
  });
}
