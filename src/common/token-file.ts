import { readFileSync, statSync } from 'node:fs';
import { KaployError } from './errors.js';

/**
 * Reads the caller's secret. Like ssh with private keys, a token file others can read is refused:
 * on a shared frontend that would let them act as its owner.
 */
export function readToken(file: string, missingHint = 'ask a site admin to enrol you'): string {
  let st: import('node:fs').Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw new KaployError(
      'KAPLOY_AUTH',
      `no credentials: cannot read token file ${file} (${(e as NodeJS.ErrnoException).code}); ${missingHint}`,
      {
        file,
      },
    );
  }
  // A FIFO or a device would block or never end: only a regular file holds a token.
  if (!st.isFile()) {
    throw new KaployError('KAPLOY_AUTH', `token file ${file} is not a regular file`, { file });
  }
  if ((st.mode & 0o077) !== 0) {
    throw new KaployError(
      'KAPLOY_AUTH',
      `token file ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}): run chmod 600 ${file}`,
      {
        file,
      },
    );
  }
  // A token is at most 200 characters: a large file is refused before it is read.
  if (st.size > 4096) {
    throw new KaployError('KAPLOY_AUTH', `token file ${file} does not hold a valid token`, { file });
  }
  const token = readFileSync(file, 'utf8').trim();
  if (!/^[A-Za-z0-9_-]{16,200}$/.test(token)) {
    throw new KaployError('KAPLOY_AUTH', `token file ${file} does not hold a valid token`, { file });
  }
  return token;
}
