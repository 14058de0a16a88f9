import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KaployError } from '../../common/errors.js';
import { MD5_RE, Md5Memo } from '../../common/md5.js';

/** Largest image the engine stores (uploads and downloads): bounds what one request can fill. */
const MAX_FILE_BYTES = 64 * 1024 ** 3;

/**
 * Content-addressed file store in the data directory (`cache/files/<md5>`): images uploaded by
 * clients and images downloaded from URLs. A file appears under its name only once fully written,
 * synced and checked, so a crash never leaves a truncated image under a valid checksum.
 */
export class FileCache {
  readonly dir: string;
  readonly memo = new Md5Memo();

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'cache', 'files');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /**
   * Removes partial files left by an engine killed mid-transfer. Only old ones: another process
   * (kaploy server add-env) may be writing into the same cache right now.
   */
  removeStaleTemporaries(olderThanMs = 3_600_000): number {
    let n = 0;
    for (const f of readdirSync(this.dir)) {
      if (!f.startsWith('.tmp-')) continue;
      const p = path.join(this.dir, f);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st && Date.now() - st.mtimeMs > olderThanMs) {
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

  /**
   * Stores a stream; when `expectedMd5` is given, content with another checksum is refused (and
   * nothing is kept). Returns the checksum and size of what was stored.
   */
  async put(
    body: Readable,
    opts: { expectedMd5?: string; signal?: AbortSignal; what?: string; maxBytes?: number } = {},
  ): Promise<{ md5: string; size: number }> {
    const max = opts.maxBytes ?? MAX_FILE_BYTES;
    const tmp = path.join(this.dir, `.tmp-${randomBytes(8).toString('hex')}`);
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
      renameSync(tmp, this.path(md5));
      // The rename must be durable before the upload is acknowledged (and recorded in the store).
      const dir = await open(this.dir, 'r');
      await dir.sync();
      await dir.close();
      return { md5, size };
    } finally {
      rmSync(tmp, { force: true });
    }
  }
}
