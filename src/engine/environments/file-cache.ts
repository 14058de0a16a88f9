import { createHash, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KaployError } from '../../common/errors.js';
import { MD5_RE, Md5Memo } from '../../common/md5.js';
import type { ImageMetrics } from '../metrics/image-metrics.js';
import type { DownloadPolicy } from './http-get.js';
import { UrlIndex } from './url-index.js';

/** Largest image the engine stores (uploads and downloads): bounds what one request can fill. */
const MAX_FILE_BYTES = 64 * 1024 ** 3;

/** Partial files of this engine's processes: `.tmp-kaploy-<pid>-<random>` (the pid tells a dead writer). */
const TMP_PREFIX = '.tmp-kaploy-';
const TMP_RE = /^\.tmp-kaploy-(\d{1,10})-[0-9a-f]{16}$/;

/** The cache's limits and the download policy (site configuration `cache`). */
export interface CacheLimits {
  /** Bytes the cached images may take; least recently used ones are evicted beyond it. */
  maxBytes: number;
  download: DownloadPolicy;
}

export const DEFAULT_CACHE_LIMITS: CacheLimits = {
  maxBytes: 100 * 1024 ** 3,
  download: { maxRedirects: 5, crossHostRedirects: false, idleTimeoutMs: 60_000, timeoutMs: 3_600_000 },
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Content-addressed file store in the data directory (`cache/files/<md5>`): images uploaded by
 * clients and images downloaded from URLs. A file appears under its name only once fully written,
 * synced and checked, so a crash never leaves a truncated image under a valid checksum. Bounded:
 * beyond `maxBytes` the least recently used images go, never one pinned (in use by a deployment).
 */
export class FileCache {
  readonly dir: string;
  readonly memo = new Md5Memo();
  readonly limits: CacheLimits;
  /** Validators of downloaded URLs (revalidation instead of a new download). */
  readonly urls: UrlIndex;
  /** The engine's own port once it listens: downloads from the engine itself are refused. */
  selfPort: number | undefined;
  /** The engine's image metrics (hits, misses, bytes downloaded), once the engine made them. */
  metrics: ImageMetrics | undefined;
  /**
   * md5 -> size and last use (ms). In memory: rewriting the file's times would change its ctime,
   * and so cost a full checksum of uploads at their next use (Md5Memo); after a restart the order
   * starts from the files' access and modification times.
   */
  readonly #entries = new Map<string, { size: number; used: number }>();
  readonly #pins = new Map<string, number>();
  /** Bytes promised to transfers under way (their announced sizes). */
  #reserved = 0;

  constructor(dataDir: string, limits: CacheLimits = DEFAULT_CACHE_LIMITS) {
    this.dir = path.join(dataDir, 'cache', 'files');
    this.limits = limits;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.urls = new UrlIndex(path.join(dataDir, 'cache', 'urls'));
    for (const f of readdirSync(this.dir)) {
      if (!MD5_RE.test(f)) continue;
      const st = statSync(path.join(this.dir, f), { throwIfNoEntry: false });
      if (st?.isFile()) this.#entries.set(f, { size: st.size, used: Math.max(st.atimeMs, st.mtimeMs) });
    }
  }

  /**
   * Removes partial files left by a process killed mid-transfer (kill -9 during an upload or a
   * download): those of a process that is gone, and any not written to for `olderThanMs`.
   * Another live process (kaploy server add-env) may be writing into the same cache right now:
   * its files are kept.
   */
  removeStaleTemporaries(olderThanMs = 3_600_000): number {
    let n = 0;
    const names = [
      ...readdirSync(this.dir).map((f) => [this.dir, f]),
      ...readdirSync(this.urls.dir).map((f) => [this.urls.dir, f]),
    ] as [string, string][];
    for (const [dir, f] of names) {
      if (!f.startsWith('.tmp-')) continue;
      const p = path.join(dir, f);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      const pid = TMP_RE.exec(f)?.[1];
      const deadWriter = pid !== undefined && Number(pid) !== process.pid && !alive(Number(pid));
      if (deadWriter || Date.now() - st.mtimeMs > olderThanMs) {
        rmSync(p, { force: true });
        n++;
      }
    }
    return n;
  }

  path(md5: string): string {
    if (!MD5_RE.test(md5))
      throw new KaployError('KAPLOY_FILE', `invalid checksum '${md5}': expected 32 hex digits`);
    return path.join(this.dir, md5);
  }

  has(md5: string): boolean {
    return existsSync(this.path(md5));
  }

  size(md5: string): number {
    return statSync(this.path(md5)).size;
  }

  /** Bytes the cached images take now. */
  usedBytes(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.size;
    return n;
  }

  /** Marks an image as just used (the last to be evicted). */
  touch(md5: string): void {
    const now = Date.now();
    const e = this.#entries.get(md5);
    if (e) e.used = now;
    else if (this.has(md5)) this.#entries.set(md5, { size: this.size(md5), used: now });
  }

  /** Keeps an image from eviction until the returned function is called (once per pin). */
  pin(md5: string): () => void {
    this.#pins.set(md5, (this.#pins.get(md5) ?? 0) + 1);
    this.touch(md5);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.#pins.get(md5) ?? 1) - 1;
      if (n <= 0) this.#pins.delete(md5);
      else this.#pins.set(md5, n);
    };
  }

  pinned(md5: string): boolean {
    return (this.#pins.get(md5) ?? 0) > 0;
  }

  /**
   * Makes room for `bytes` more (evicting least recently used, unpinned images) and promises it to
   * one transfer; refused up front when it cannot fit the cache's bound or the disk's free space.
   * Returns the function that gives the promise back.
   */
  reserve(bytes: number, what: string): () => void {
    const max = Math.min(this.limits.maxBytes, MAX_FILE_BYTES);
    if (bytes > max)
      throw new KaployError(
        'KAPLOY_FILE',
        `'${what}' announces ${bytes} bytes, more than the ${max} bytes the site's image cache holds`,
        { file: what },
      );
    this.#evict(bytes);
    const st = statfsSync(this.dir);
    const free = Number(st.bavail) * Number(st.bsize);
    if (bytes > free - this.#reserved)
      throw new KaployError(
        'KAPLOY_FILE',
        `'${what}' announces ${bytes} bytes, more than the ${Math.max(0, free - this.#reserved)} bytes free on the engine's disk`,
        { file: what },
      );
    this.#reserved += bytes;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.#reserved -= bytes;
    };
  }

  /** Evicts least recently used unpinned images until `extra` more bytes fit under the bound. */
  #evict(extra: number, keep?: string): void {
    let used = this.usedBytes() + this.#reserved;
    if (used + extra <= this.limits.maxBytes) return;
    const order = [...this.#entries.entries()].sort((a, b) => a[1].used - b[1].used);
    for (const [md5, e] of order) {
      if (used + extra <= this.limits.maxBytes) break;
      if (md5 === keep || this.pinned(md5)) continue;
      rmSync(path.join(this.dir, md5), { force: true });
      this.#entries.delete(md5);
      used -= e.size;
    }
  }

  /**
   * Stores a stream; when `expectedMd5` is given, content with another checksum is refused (and
   * nothing is kept). `keep` decides, once the checksum is known, whether the file is kept (a
   * shared download nobody wants any more is not: `kept: false`). Returns the checksum and size.
   */
  async put(
    body: Readable,
    opts: {
      expectedMd5?: string;
      signal?: AbortSignal;
      what?: string;
      maxBytes?: number;
      keep?: (md5: string) => boolean;
      onBytes?: (n: number) => void;
      /** Gives back the transfer's reservation (`reserve`) once its bytes are counted as stored. */
      release?: () => void;
    } = {},
  ): Promise<{ md5: string; size: number; kept?: false }> {
    const max = Math.min(opts.maxBytes ?? MAX_FILE_BYTES, this.limits.maxBytes);
    const tmp = path.join(this.dir, `${TMP_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}`);
    const h = createHash('md5');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        h.update(chunk);
        size += chunk.length;
        if (size > max) {
          cb(
            new KaployError(
              'KAPLOY_FILE',
              `'${opts.what ?? 'upload'}' is larger than ${max} bytes, the most the engine accepts`,
            ),
          );
          return;
        }
        opts.onBytes?.(size);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(body, tap, createWriteStream(tmp, { mode: 0o600 }), { signal: opts.signal });
      const fh = await open(tmp, 'r');
      await fh.sync();
      await fh.close();
      const md5 = h.digest('hex');
      if (opts.expectedMd5 !== undefined && md5 !== opts.expectedMd5) {
        throw new KaployError(
          'KAPLOY_CHECKSUM',
          `Checksum of the file '${opts.what ?? 'upload'}' does not match (an update is necessary): expected ${opts.expectedMd5}, got ${md5}`,
          { file: opts.what },
        );
      }
      if (opts.keep && !opts.keep(md5)) return { md5, size, kept: false as const };
      renameSync(tmp, this.path(md5));
      // The rename must be durable before the upload is acknowledged (and recorded in the store).
      const dir = await open(this.dir, 'r');
      await dir.sync();
      await dir.close();
      opts.release?.();
      this.#entries.set(md5, { size, used: Date.now() });
      this.#evict(0, md5);
      return { md5, size };
    } finally {
      opts.release?.();
      rmSync(tmp, { force: true });
    }
  }
}
