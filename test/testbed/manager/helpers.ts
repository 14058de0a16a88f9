import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'ssh2';
import { pickFreePort } from '../../../src/testbed/manager/ports.js';
import type { TestbedState } from '../../../src/testbed/manager/testbed-state.js';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
export const kaployJs = path.join(root, 'dist', 'cli', 'kaploy.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function kaploy(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [kaployJs, ...args],
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * `kaploy testbed up` of a small site in DIR on a free SSH port, nodes booting in 50 ms; throws with
 * its stderr when it fails. Resolves its output, the SSH port and DIR/testbed.json.
 */
export async function upSmallSite(o: {
  dir: string;
  site: string;
  nodes: number;
  extra?: string[];
}): Promise<{ result: CliResult; sshPort: number; state: TestbedState }> {
  const sshPort = await pickFreePort();
  const args = ['testbed', 'up', '--nodes', String(o.nodes), '--site', o.site, '--dir', o.dir];
  const result = await kaploy([
    ...args,
    '--boot-delay',
    '50',
    '--ssh-port',
    String(sshPort),
    ...(o.extra ?? []),
  ]);
  if (result.code !== 0)
    throw new Error(
      `${args.slice(0, 2).join(' ')} ${o.extra?.join(' ') ?? ''} failed (${result.code}): ${result.stderr}`,
    );
  const state = JSON.parse(readFileSync(path.join(o.dir, 'testbed.json'), 'utf8')) as TestbedState;
  return { result, sshPort, state };
}

/** Polls until `check` returns a value (not a timing assertion: the bound only stops a hung test). */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Host key of `address` as written in DIR/known_hosts (base64 blob). */
export function knownHostKey(dir: string, address: string, port: number): string {
  const pattern = port === 22 ? address : `[${address}]:${port}`;
  for (const line of readFileSync(path.join(dir, 'known_hosts'), 'utf8').split('\n')) {
    const [hosts, , blob] = line.split(' ');
    if (hosts?.split(',').includes(pattern) && blob) return blob;
  }
  throw new Error(`no known_hosts entry for ${pattern}`);
}

/** Runs one command over SSH as root with a key, pinning the host key; resolves stdout and exit code. */
export function sshExec(o: {
  host: string;
  port: number;
  key: Buffer;
  hostKey: string;
  command: string;
}): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    let stdout = '';
    let code = -1;
    c.once('error', reject);
    c.once('ready', () => {
      c.exec(o.command, (err, ch) => {
        if (err) return reject(err);
        ch.on('data', (d: Buffer) => {
          stdout += d.toString();
        });
        ch.stderr.resume();
        ch.once('exit', (n: number) => {
          code = n;
        });
        ch.once('close', () => c.end());
      });
    });
    c.once('close', () => resolve({ code, stdout }));
    c.connect({
      host: o.host,
      port: o.port,
      username: 'root',
      privateKey: o.key,
      readyTimeout: 10_000,
      hostVerifier: (key: Buffer) => key.toString('base64') === o.hostKey,
    });
  });
}
