import { Readable } from 'node:stream';
import { fetch } from 'undici';
import { KaployError } from '../../common/errors.js';
import type { FileCache } from './file-cache.js';

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
  let res: Awaited<ReturnType<typeof fetch>>;
  try {
    res = await fetch(url, { signal: opts.signal, redirect: 'follow' });
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new KaployError('KAPLOY_FILE', `cannot download ${url}: ${(e as Error).message}`, {
      file: url,
      cause: e,
    });
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new KaployError('KAPLOY_FILE', `cannot download ${url}: HTTP ${res.status}`, { file: url });
  }
  return cache.put(Readable.fromWeb(res.body as never), {
    ...(opts.expectedMd5 !== undefined ? { expectedMd5: opts.expectedMd5 } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    what: url,
  });
}
