import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { utils } from 'ssh2';
import type { LevelCommands, SiteConfig } from '../../../../src/common/site-config-types.js';
import { MemoryHostKeyStore, SshPool } from '../../../../src/engine/ssh/index.js';
import { ensureTestImages, type TestImages } from '../../../../src/testbed/images/index.js';
import { generateReadableKeyPair } from '../../../../src/testbed/manager/keys.js';
import { type RebootLevel, VirtualNode } from '../../../../src/testbed/node/index.js';
import { testSite } from './site.js';

/**
 * A small virtual site in the test process: N VirtualNodes on their own loopback addresses, a
 * BMC-like HTTP API driving their reboots (as `kaploy testbed up` writes in site.yaml), the
 * engine's key and an SSH pool.
 */
export interface VSite {
  dir: string;
  site: SiteConfig;
  nodes: VirtualNode[];
  names: string[];
  pool: SshPool;
  store: MemoryHostKeyStore;
  images: TestImages;
  bmcCalls: string[];
  /** Levels the BMC accepts but does nothing for (a BMC ignoring soft reboots). */
  ignoredLevels: Set<string>;
  close(): Promise<void>;
}

export async function startVSite(o: {
  n: number;
  bootDelayMs?: number;
  nicBytesPerSec?: number;
  levels?: RebootLevel[];
  /** Pin every node's host key up front (tests that log into production before any deployment env). */
  pinHostKeys?: boolean;
}): Promise<VSite> {
  const images = await ensureTestImages();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kaploy-steps-'));
  // Own /16 of loopback per test file so parallel suites never share an address:port.
  const b = randomInt(100, 250);
  const c = randomInt(0, 250);
  const addresses = Array.from({ length: o.n }, (_, i) => `127.${b}.${c}.${i + 1}`);
  const names = addresses.map((_, i) => `node-${i + 1}.testsite`);
  const sshPort = randomInt(20000, 30000);

  const byName = new Map<string, VirtualNode>();
  const bmcCalls: string[] = [];
  const ignoredLevels = new Set<string>();
  const bmc: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://bmc');
    const m = /^\/nodes\/([^/]+)\/reboot$/.exec(u.pathname);
    const node = m ? byName.get(decodeURIComponent(m[1] as string)) : undefined;
    const level = (u.searchParams.get('level') ?? 'soft') as RebootLevel;
    bmcCalls.push(`${req.method} ${u.pathname}?level=${level}`);
    if (!node || req.method !== 'POST') {
      res.writeHead(404).end('unknown');
      return;
    }
    if (ignoredLevels.has(level)) {
      res.writeHead(200).end('ok');
      return;
    }
    node.reboot(level).then(
      () => res.writeHead(200).end('ok'),
      (e: Error) => res.writeHead(500).end(e.message),
    );
  });
  await new Promise<void>((r) => bmc.listen(0, '127.0.0.1', r));
  const bmcUrl = `http://127.0.0.1:${(bmc.address() as AddressInfo).port}/nodes/{node}/reboot`;
  const reboot: LevelCommands = {};
  for (const l of o.levels ?? ['soft', 'hard', 'very_hard'])
    reboot[l] = { kind: 'http', method: 'POST', url: `${bmcUrl}?level=${l}` };

  const site = testSite({
    dir,
    nodes: names.map((name, i) => ({ name, address: addresses[i] as string })),
    sshPort,
    reboot,
  });
  await mkdir(site.bootDir, { recursive: true });
  const engine = generateReadableKeyPair();
  const hostKeys = names.map(() => generateReadableKeyPair());
  const nodes = names.map((name, i) => {
    const hostKey = (hostKeys[i] as { private: string }).private;
    const v = new VirtualNode({
      name,
      address: addresses[i] as string,
      sshPort,
      cluster: 'vc',
      dir: path.join(dir, 'nodes', name),
      bootDir: site.bootDir,
      pxeFileNaming: 'ip_hex',
      deployKernel: site.clusters[0]?.deployEnv.kernel as string,
      markerPort: site.markerPort,
      hostKey: Buffer.from(hostKey),
      engineKey: engine.public,
      productionImage: images.prodTgz,
      partitioning: { blockDevice: '/dev/sda', swap: 1, prod: 2, deploy: 3, tmp: 5 },
      hardware: {
        bootDelayMs: o.bootDelayMs ?? 50,
        ...(o.nicBytesPerSec ? { nicBytesPerSec: o.nicBytesPerSec } : {}),
      },
    });
    byName.set(name, v);
    return v;
  });
  try {
    await Promise.all(nodes.map((n) => n.start()));
  } catch (e) {
    // A node that did not start must not leave the others running nor the directory behind.
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await new Promise<void>((r) => bmc.close(() => r()));
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const store = new MemoryHostKeyStore();
  if (o.pinHostKeys) {
    names.forEach((name, i) => {
      const k = utils.parseKey((hostKeys[i] as { public: string }).public);
      if (!(k instanceof Error) && !Array.isArray(k)) store.learn(name, k.getPublicSSH());
    });
  }
  const pool = new SshPool({
    privateKey: engine.private,
    hostKeys: store,
    connectTimeoutMs: 5000,
    keepaliveIntervalMs: 2000,
  });
  return {
    dir,
    site,
    nodes,
    names,
    pool,
    store,
    images,
    bmcCalls,
    ignoredLevels,
    async close() {
      await pool.closeAll();
      await Promise.all(nodes.map((n) => n.stop()));
      await new Promise<void>((r) => bmc.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The node's deploy partition as the virtual node stores it. */
export const deployPartDir = (v: VSite, i: number) =>
  path.join(v.dir, 'nodes', v.names[i] as string, 'disk', 'sda3');
