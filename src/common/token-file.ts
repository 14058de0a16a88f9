import { readFileSync, statSync } from 'node:fs';
import { KaployError } from './errors.js';

/**
 * Reads the caller's secret. Like ssh with private keys, a token file others can read is refused:
 * on a shared frontend that would let them act as its owner.
 */
export function readToken(file: string): string {
  let st: import('node:fs').Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw new KaployError(
      'KAPLOY_AUTH',
      `no credentials: cannot read token file ${file} (${(e as NodeJS.ErrnoException).code}); ask a site admin to enrol you`,
      {
        file,
      },
    );
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
  const token = readFileSync(file, 'utf8').trim();
  if (!/^[A-Za-z0-9_-]{16,200}$/.test(token)) {
    throw new KaployError('KAPLOY_AUTH', `token file ${file} does not hold a valid token`, { file });
  }
  return token;
}
