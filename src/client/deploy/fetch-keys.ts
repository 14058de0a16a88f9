import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KaployError } from '../../common/errors.js';
import { fetchText } from './fetch-text.js';
import { readKeys } from './read-keys.js';

/**
 * `-k http://depot/~user/authorized_keys`: the multi-site tutorial publishes the caller's keys on
 * a web server so every site installs the same ones. The text is checked with the same rules as a
 * local key file (public keys only), then sent to every site.
 */
export async function fetchKeys(url: string, signal: AbortSignal): Promise<{ file: string; text: string }> {
  const text = await fetchText(url, 'key file', signal);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kaploy-keys-'));
  try {
    const f = path.join(dir, 'authorized_keys');
    await writeFile(f, text, { mode: 0o600 });
    try {
      return { file: url, text: readKeys(f).text };
    } catch (e) {
      // Name the URL, not the temporary copy, in the message.
      throw new KaployError('KAPLOY_FILE', (e as Error).message.replaceAll(f, url), { file: url });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
