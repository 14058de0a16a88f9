import { readFileSync, statSync } from 'node:fs';
import { KaployError } from './errors.js';

/** A certificate chain or a CA bundle is a few KiB; a larger file is not one. */
const MAX_PEM_BYTES = 1024 * 1024;

/**
 * Reads a PEM file named in a configuration (the engine's certificate and key, a client's or a
 * hook's CA): a regular file (a FIFO or a device would block or never end), at most 1 MiB, holding
 * at least one PEM block. A private key readable by every local account is refused, as OpenSSH
 * refuses such keys; group-readable keys stay allowed (Debian's ssl-cert group).
 */
export function readPemFile(file: string, what: string, o: { secret?: boolean } = {}): Buffer {
  let st: import('node:fs').Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw new KaployError(
      'KAPLOY_CONFIG',
      `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { file, cause: e },
    );
  }
  if (!st.isFile()) throw new KaployError('KAPLOY_CONFIG', `${what} ${file} is not a regular file`, { file });
  if (st.size > MAX_PEM_BYTES) {
    throw new KaployError(
      'KAPLOY_CONFIG',
      `${what} ${file} is ${st.size} bytes: not a PEM file (at most 1 MiB)`,
      {
        file,
      },
    );
  }
  if (o.secret && (st.mode & 0o004) !== 0) {
    throw new KaployError(
      'KAPLOY_CONFIG',
      `${what} ${file} is readable by every user (mode ${(st.mode & 0o777).toString(8)}): run chmod 600 ${file}`,
      { file },
    );
  }
  const pem = readFileSync(file);
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(pem.toString('latin1'))) {
    throw new KaployError('KAPLOY_CONFIG', `${what} ${file} holds no PEM block (-----BEGIN ...-----)`, {
      file,
    });
  }
  return pem;
}
