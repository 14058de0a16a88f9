import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, utils } from 'ssh2';
import { ipHex, renderProfile } from '../../../src/formats/pxe-profile.js';
import { generateReadableKeyPair } from '../../../src/testbed/manager/keys.js';
import type { NodeStatus } from '../../../src/testbed/node/index.js';
import { VirtualNode, type VirtualNodeOptions } from '../../../src/testbed/node/index.js';

/** A tiny system image: busybox userland, a kernel file, an init, a hostname. */
export function buildImage(
  dir: string,
  name: string,
  opts: { kernel?: boolean; grub?: string } = {},
): string {
  const root = join(dir, `${name}-root`);
  mkdirSync(join(root, 'boot'), { recursive: true });
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'sbin'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'root'), { recursive: true });
  mkdirSync(join(root, 'tmp'), { recursive: true });
  if (opts.kernel !== false) writeFileSync(join(root, 'boot/vmlinuz'), 'not really a kernel\n');
  if (opts.grub !== undefined) {
    mkdirSync(join(root, 'boot/grub'), { recursive: true });
    writeFileSync(join(root, 'boot/grub/grub.cfg'), opts.grub);
  }
  writeFileSync(join(root, 'etc/hostname'), `${name}\n`);
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  for (const applet of [
    'sh',
    'cat',
    'ls',
    'echo',
    'touch',
    'mkdir',
    'rm',
    'env',
    'tar',
    'gzip',
    'dd',
    'test',
    'id',
    'hostname',
    'chmod',
    'printf',
  ]) {
    symlinkSync('busybox', join(root, 'bin', applet));
  }
  writeFileSync(join(root, 'sbin/init'), '#!/bin/sh\nexec /bin/sh\n', { mode: 0o755 });
  const tarball = join(dir, `${name}.tar.gz`);
  execFileSync('tar', ['-C', root, '--numeric-owner', '-czf', tarball, '.']);
  return tarball;
}

export interface Keys {
  hostKey: Buffer;
  hostPublic: Buffer;
  enginePrivate: string;
  enginePublic: string;
}

function makeKeys(): Keys {
  const host = generateReadableKeyPair();
  const engine = generateReadableKeyPair();
  const hostParsed = utils.parseKey(host.public);
  if (hostParsed instanceof Error) throw hostParsed;
  return {
    hostKey: Buffer.from(host.private),
    hostPublic: hostParsed.getPublicSSH(),
    enginePrivate: engine.private,
    enginePublic: engine.public,
  };
}

/** Loopback addresses unlikely to collide with other suites running at the same time. */
let seq = 0;
function nextAddress(): string {
  seq++;
  return `127.${200 + (process.pid % 50)}.${Math.floor(Math.random() * 250) + 1}.${(seq % 250) + 1}`;
}

export interface Site {
  dir: string;
  bootDir: string;
  prodImage: string;
  keys: Keys;
  cleanup(): void;
}

export function makeSite(): Site {
  const dir = mkdtempSync(join(tmpdir(), 'kaploy-vnode-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const bootDir = join(dir, 'pxelinux.cfg');
    mkdirSync(bootDir);
    return { dir, bootDir, prodImage: buildImage(dir, 'prod'), keys: makeKeys(), cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

export const DEPLOY_KERNEL = 'kaploy-deploy-vmlinuz';

export function nodeOptions(
  site: Site,
  name: string,
  over: Partial<VirtualNodeOptions> = {},
): VirtualNodeOptions {
  return {
    name,
    address: nextAddress(),
    sshPort: 2222,
    cluster: 'vc',
    dir: join(site.dir, 'nodes', name),
    bootDir: site.bootDir,
    pxeFileNaming: 'ip_hex',
    deployKernel: DEPLOY_KERNEL,
    markerPort: 25300,
    hostKey: site.keys.hostKey,
    engineKey: site.keys.enginePublic,
    productionImage: site.prodImage,
    partitioning: { blockDevice: '/dev/sda', swap: 1, prod: 2, deploy: 3, tmp: 5 },
    hardware: { bootDelayMs: 50 },
    ...over,
  };
}

/** Resolves with the node's status once `pred` holds (checked on each state event). */
export function waitFor(node: VirtualNode, pred: (s: NodeStatus) => boolean): Promise<NodeStatus> {
  return new Promise((resolve) => {
    const now = node.status();
    if (pred(now)) return resolve(now);
    const on = (s: NodeStatus) => {
      if (!pred(s)) return;
      node.off('state', on);
      resolve(s);
    };
    node.on('state', on);
  });
}

export const waitState = (node: VirtualNode, state: NodeStatus['state']) =>
  waitFor(node, (s) => s.state === state);

/**
 * A node started with a PXE profile on the deployment environment (its own profile file, or the
 * site's `default` one), once it runs it.
 */
export async function startInDeployEnv(
  site: Site,
  name: string,
  profile: 'own' | 'default' = 'own',
): Promise<{ node: VirtualNode; o: VirtualNodeOptions }> {
  const o = nodeOptions(site, name);
  writeFileSync(
    join(site.bootDir, profile === 'own' ? ipHex(o.address) : 'default'),
    renderProfile({ kind: 'deploy_env', kernel: DEPLOY_KERNEL, initrd: 'i', params: '' }),
  );
  const node = new VirtualNode(o);
  await node.start();
  await waitState(node, 'deploy_env');
  return { node, o };
}

export function connect(
  address: string,
  port: number,
  key: string,
  hostPublic?: Buffer,
  timeoutMs = 10000,
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => {
      // Reboots and faults cut connections: tests observe that through 'close', not as a crash.
      c.on('error', () => {});
      resolve(c);
    });
    c.once('error', (e) => {
      c.on('error', () => {});
      c.end();
      reject(e);
    });
    c.connect({
      host: address,
      port,
      username: 'root',
      privateKey: key,
      readyTimeout: timeoutMs,
      ...(hostPublic ? { hostVerifier: (k: Buffer) => k.equals(hostPublic) } : {}),
    });
  });
}

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export function exec(c: Client, command: string, stdin?: Buffer | string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err, ch) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      let signal: string | undefined;
      ch.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      ch.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      ch.on('exit', (c2: number | null, sig?: string) => {
        code = c2;
        signal = sig;
      });
      ch.on('close', () => resolve({ code, stdout, stderr, ...(signal ? { signal } : {}) }));
      if (stdin !== undefined) ch.end(stdin);
      else ch.end();
    });
  });
}

export { VirtualNode };
