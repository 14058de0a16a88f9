import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import { runTool } from '../images/run-tool.js';
import type { PlannedNode } from './addresses.js';
import type { TestbedLayout } from './layout.js';

const exists = (f: string) =>
  access(f).then(
    () => true,
    () => false,
  );

/** The engine key (root on every node) and a user key, made with ssh-keygen once per DIR. */
export async function ensureKeyPairs(l: TestbedLayout, signal?: AbortSignal): Promise<void> {
  await mkdir(l.keysDir, { recursive: true, mode: 0o700 });
  for (const [file, comment] of [
    [l.engineKey, 'kaploy-engine'],
    [l.userKey, 'kaploy-user'],
  ] as const) {
    if ((await exists(file)) && (await exists(`${file}.pub`))) continue;
    await runTool('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { signal });
  }
}

export const hostKeyFile = (l: TestbedLayout, node: string) => path.join(l.hostKeysDir, node);

/**
 * One ed25519 host key per node (OpenSSH format, for the node's SSH server and known_hosts),
 * generated in-process: a thousand cost ~0.1 s, against a process per key with ssh-keygen.
 * Existing keys are kept so known_hosts stays valid across restarts. Returns name -> public key.
 */
export async function ensureHostKeys(l: TestbedLayout, nodes: PlannedNode[]): Promise<Map<string, string>> {
  await mkdir(l.hostKeysDir, { recursive: true, mode: 0o700 });
  const out = new Map<string, string>();
  for (const n of nodes) {
    const file = hostKeyFile(l, n.name);
    let pub: string | undefined;
    if (await exists(file)) {
      const k = ssh2.utils.parseKey(await readFile(file));
      if (!(k instanceof Error)) pub = `${k.type} ${k.getPublicSSH().toString('base64')}`;
    }
    if (!pub) {
      const kp = generateReadableKeyPair(n.name);
      await writeFile(file, kp.private, { mode: 0o600 });
      pub = kp.public.split(' ').slice(0, 2).join(' ');
    }
    out.set(n.name, pub);
  }
  return out;
}

/**
 * ssh2 1.17's generateKeyPairSync writes a private key its own parseKey rejects ("Malformed
 * OpenSSH private key") about once in 300 ed25519 keys; such a node could not start its server.
 * Keep only keys that read back.
 */
export function generateReadableKeyPair(comment = ''): { private: string; public: string } {
  for (let i = 0; i < 20; i++) {
    const kp = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if (
      !(ssh2.utils.parseKey(kp.private) instanceof Error) &&
      !(ssh2.utils.parseKey(kp.public) instanceof Error)
    )
      return kp;
  }
  throw new Error('ssh2 could not generate a readable ed25519 host key');
}
