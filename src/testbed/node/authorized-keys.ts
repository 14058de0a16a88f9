import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { withKeyObjects } from '../../common/ssh-key-objects.js';
import type { ResolvedPath } from './booted-system.js';
import { statWithoutSymlinks } from './view-paths.js';

// ssh2 is CommonJS: Node's ESM loader finds no named exports in it (vitest does), so destructure.
const { utils } = ssh2;

type PublicKey = ReturnType<typeof utils.parseKey>;
const MAX_BYTES = 1024 * 1024;
const KEY_TYPE = /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-\S+)$/;

// Keys already parsed, by their `type base64` text: sshd reads authorized_keys at every attempt,
// and every node of a site has the engine's key there.
const parsedKeys = new Map<string, Exclude<PublicKey, Error>>();
const MAX_CACHED = 4096;

function parsePublicKey(text: string): Exclude<PublicKey, Error> | undefined {
  const known = parsedKeys.get(text);
  if (known) return known;
  const k = utils.parseKey(text);
  if (k instanceof Error || Array.isArray(k)) return undefined;
  if (parsedKeys.size >= MAX_CACHED) parsedKeys.clear();
  parsedKeys.set(text, withKeyObjects(k));
  return k;
}

/** Public keys of an authorized_keys text (options before the key type are skipped, bad lines ignored as sshd does). */
function parseAuthorizedKeys(text: string): Exclude<PublicKey, Error>[] {
  const keys: Exclude<PublicKey, Error>[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const words = line.split(/\s+/);
    const i = words.findIndex((w) => KEY_TYPE.test(w));
    if (i < 0 || !words[i + 1]) continue;
    const k = parsePublicKey(`${words[i]} ${words[i + 1]}`);
    if (k) keys.push(k);
  }
  return keys;
}

/** The keys sshd would read from the booted system's /root/.ssh/authorized_keys (none if it is absent or a symlink). */
export async function readAuthorizedKeys(file: ResolvedPath): Promise<Exclude<PublicKey, Error>[]> {
  const kind = await statWithoutSymlinks(file.base, file.rel).catch(() => 'missing' as const);
  if (kind !== 'file') return [];
  const buf = await readFile(join(file.base, file.rel)).catch(() => undefined);
  return buf ? parseAuthorizedKeys(buf.subarray(0, MAX_BYTES).toString('utf8')) : [];
}

/** Whether the offered key (algo + SSH wire data) is one of `keys`; with a signature, also verifies it. */
export function keyAccepted(
  keys: readonly Exclude<PublicKey, Error>[],
  offered: { algo: string; data: Buffer },
  signed?: { blob: Buffer; signature: Buffer; hashAlgo?: string | undefined },
): boolean {
  const k = keys.find((key) => key.getPublicSSH().equals(offered.data));
  if (!k) return false;
  if (!signed) return true;
  return k.verify(signed.blob, signed.signature, signed.hashAlgo as never) === true;
}
