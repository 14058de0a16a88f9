import os from 'node:os';
import path from 'node:path';
import { KaployError } from '../../common/errors.js';
import { readBoundedFile } from '../read-bounded-file.js';

/** An authorized_keys file of a few hundred keys (a reboot request carries at most this much). */
const MAX_KEY_FILE_BYTES = 256 * 1024;

/**
 * `-k [FILE]`: the public keys to install for root. Without FILE, the caller's
 * ~/.ssh/authorized_keys (Kadeploy: "Grab the key file ..."). Lines are checked to look like keys,
 * so a private key given by mistake is refused rather than copied to nodes.
 */
export async function readKeys(
  file: string | true,
  home = os.homedir(),
  signal?: AbortSignal,
): Promise<{ file: string; text: string }> {
  const f = file === true ? path.join(home, '.ssh', 'authorized_keys') : file;
  return parseKeys(await readBoundedFile(f, { limit: MAX_KEY_FILE_BYTES, what: 'key file', signal }), f);
}

/** The checks of readKeys on a text already read (or downloaded: -k URL), `f` naming it. */
export function parseKeys(text: string, f: string): { file: string; text: string } {
  if (/PRIVATE KEY/.test(text)) {
    throw new KaployError(
      'KAPLOY_FILE',
      `${f} is a private key: give the public key (.pub) or an authorized_keys file`,
      { file: f },
    );
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (lines.length === 0) throw new KaployError('KAPLOY_FILE', `the key file ${f} holds no key`, { file: f });
  lines.forEach((l, i) => {
    if (!/(^|\s)(ssh-(rsa|ed25519|dss)|ecdsa-sha2-\S+|sk-\S+)\s+[A-Za-z0-9+/=]+/.test(l)) {
      throw new KaployError('KAPLOY_FILE', `${f}:${i + 1}: not a public key line`, { file: f, line: i + 1 });
    }
  });
  return { file: f, text: lines.join('\n') + '\n' };
}
