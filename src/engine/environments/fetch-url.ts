import { KaployError } from '../../common/errors.js';
import { type DownloadProgress, progressThrottle } from './download-progress.js';
import type { FileCache } from './file-cache.js';
import { httpGet } from './http-get.js';

export interface FetchOptions {
  /** The checksum the content must have (a recorded environment's); another is KAPLOY_CHECKSUM. */
  expectedMd5?: string;
  signal?: AbortSignal;
  /** Progress of the download (a few calls: every ~1 s or 10 %, and at the end). */
  onProgress?: (p: DownloadProgress) => void;
}

/** What one flight found: a download, or the cached copy still valid (304). */
interface FlightResult {
  md5: string;
  size: number;
  kept?: false;
  revalidated?: true;
}

/** One download (or revalidation) of one URL, shared by every caller asking for it meanwhile. */
interface Flight {
  done: Promise<FlightResult>;
  controller: AbortController;
  waiters: number;
  /** What the waiters expect (undefined: anything): the content is kept if one of them wants it. */
  expected: (string | undefined)[];
  listeners: Set<(p: DownloadProgress) => void>;
}

/** In-flight downloads of each cache (an engine has one). */
const flights = new WeakMap<FileCache, Map<string, Flight>>();

/**
 * Downloads an http(s) image into the cache and returns its checksum. Once per URL however many
 * callers ask at once (they share the download: one caller's abort stops it only when every
 * caller left); a later call revalidates the cached copy with the server's validators (304: no
 * download). With `expectedMd5` already in the cache nothing is asked of the server at all (the
 * checksum pins the content), and a different content is a KAPLOY_CHECKSUM error. Failures are
 * KAPLOY_FILE errors naming the URL (the caller's nodes fail before any is touched).
 */
export async function fetchIntoCache(
  cache: FileCache,
  url: string,
  opts: FetchOptions = {},
): Promise<{ md5: string; size: number }> {
  if (opts.expectedMd5 && cache.has(opts.expectedMd5)) {
    cache.metrics?.lookup('hit');
    cache.touch(opts.expectedMd5);
    return { md5: opts.expectedMd5, size: cache.size(opts.expectedMd5) };
  }
  opts.signal?.throwIfAborted();
  let byUrl = flights.get(cache);
  if (!byUrl) {
    byUrl = new Map();
    flights.set(cache, byUrl);
  }
  let f = byUrl.get(url);
  if (!f) {
    const controller = new AbortController();
    const flight: Flight = {
      controller,
      waiters: 0,
      expected: [],
      listeners: new Set(),
      done: Promise.resolve() as never,
    };
    const table = byUrl;
    flight.done = download(cache, url, flight).finally(() => {
      if (table.get(url) === flight) table.delete(url);
    });
    // A flight nobody waits for any more may reject unobserved.
    flight.done.catch(() => {});
    byUrl.set(url, flight);
    f = flight;
  }
  const flight = f;
  flight.waiters++;
  flight.expected.push(opts.expectedMd5);
  if (opts.onProgress) flight.listeners.add(opts.onProgress);
  try {
    const r = await waitFor(flight.done, opts.signal);
    cache.metrics?.lookup(r.revalidated ? 'revalidated' : 'miss');
    if (opts.expectedMd5 !== undefined && r.md5 !== opts.expectedMd5)
      throw new KaployError(
        'KAPLOY_CHECKSUM',
        `Checksum of the file '${url}' does not match (an update is necessary): expected ${opts.expectedMd5}, got ${r.md5}`,
        { file: url },
      );
    return { md5: r.md5, size: r.size };
  } finally {
    if (opts.onProgress) flight.listeners.delete(opts.onProgress);
    flight.expected.splice(flight.expected.indexOf(opts.expectedMd5), 1);
    if (--flight.waiters === 0)
      flight.controller.abort(opts.signal?.reason ?? new Error('nobody waits for it'));
  }
}

/** `p`, or the caller's abort first (the shared work goes on for the others). */
function waitFor<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function download(cache: FileCache, url: string, flight: Flight): Promise<FlightResult> {
  const signal = flight.controller.signal;
  const known = cache.urls.get(url);
  const cached = known && cache.has(known.md5) ? known : undefined;
  const headers: Record<string, string> = {};
  if (cached?.etag) headers['if-none-match'] = cached.etag;
  if (cached?.lastModified) headers['if-modified-since'] = cached.lastModified;
  const policy = {
    ...cache.limits.download,
    ...(cache.selfPort !== undefined ? { selfPort: cache.selfPort } : {}),
  };
  const answer = await httpGet(url, policy, { signal, headers });
  if (answer.status === 304) {
    if (!cached)
      throw new KaployError('KAPLOY_FILE', `cannot download ${url}: HTTP 304 to an unconditional GET`);
    cache.touch(cached.md5);
    return { md5: cached.md5, size: cached.size, revalidated: true };
  }
  // Refused before a byte is written: more than the cache holds or the disk has.
  let release: () => void;
  try {
    release = cache.reserve(answer.length ?? 0, url);
  } catch (e) {
    answer.body.destroy();
    throw e;
  }
  const progress = progressThrottle(url, answer.length, (p) => {
    for (const l of flight.listeners) l(p);
  });
  let r: { md5: string; size: number; kept?: false };
  try {
    r = await cache.put(answer.body, {
      signal,
      what: url,
      release,
      onBytes: progress.bytes,
      // Kept when a waiter wants this content (one without an md5, or whose md5 it is).
      keep: (md5) => flight.expected.some((x) => x === undefined || x === md5),
    });
  } catch (e) {
    if (e instanceof KaployError || signal.aborted) throw e;
    // A local failure (disk full, I/O): still this URL's download failing, not the engine's.
    throw new KaployError('KAPLOY_FILE', `cannot download ${url}: ${(e as Error).message}`, {
      file: url,
      cause: e,
    });
  }
  progress.end(r.size);
  cache.metrics?.downloaded(r.size);
  const etag = answer.headers.etag;
  const lastModified = answer.headers['last-modified'];
  if (r.kept !== false)
    cache.urls.set({
      url,
      md5: r.md5,
      size: r.size,
      ...(etag && etag.length <= 1024 ? { etag } : {}),
      ...(lastModified && lastModified.length <= 1024 ? { lastModified } : {}),
    });
  return r;
}
