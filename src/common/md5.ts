import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { KaployError } from './errors.js';

export const MD5_RE = /^[0-9a-f]{32}$/;

/** MD5 of a file, streamed (images are gigabytes). */
export async function md5File(file: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('md5');
  try {
    for await (const chunk of createReadStream(file, { signal })) h.update(chunk as Buffer);
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new KaployError('KAPLOY_FILE', `cannot read ${file}: ${(e as Error).message}`, { file, cause: e });
  }
  return h.digest('hex');
}

/**
 * MD5s remembered by (path, inode, size, mtime): verifying an unchanged image before every
 * deployment then costs a stat, while any rewrite of the file is still noticed.
 */
export class Md5Memo {
  readonly #memo = new Map<string, string>();

  async of(file: string, signal?: AbortSignal): Promise<string> {
    let key: string;
    try {
      const st = statSync(file);
      key = `${file}\0${st.ino}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}`;
    } catch (e) {
      throw new KaployError(
        'KAPLOY_FILE',
        `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        { file },
      );
    }
    const known = this.#memo.get(key);
    if (known) return known;
    const md5 = await md5File(file, signal);
    this.#memo.set(key, md5);
    return md5;
  }
}
