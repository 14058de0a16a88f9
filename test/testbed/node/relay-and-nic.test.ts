import { readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import type { Client, ClientChannel } from 'ssh2';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nodeCommands } from '../../../src/formats/node-commands.js';
import { renderProfile } from '../../../src/formats/pxe-profile.js';
import { TokenBucket } from '../../../src/testbed/node/token-bucket.js';
import {
  buildImage,
  connect,
  DEPLOY_KERNEL,
  exec,
  makeSite,
  nodeOptions,
  type Site,
  VirtualNode,
  waitState,
} from './fixtures.js';

/** Starts a relay and resolves once it reports listening; `done` resolves with its exit status. */
function startRelay(
  c: Client,
  cmd: string,
): Promise<{ done: Promise<{ code: number | null; stderr: string }> }> {
  return new Promise((resolve, reject) => {
    c.exec(cmd, (err, ch: ClientChannel) => {
      if (err) return reject(err);
      let stderr = '';
      let code: number | null = null;
      let listening = false;
      const done = new Promise<{ code: number | null; stderr: string }>((r) =>
        ch.on('close', () => r({ code, stderr })),
      );
      ch.on('exit', (c2: number | null) => {
        code = c2;
      });
      ch.resume();
      ch.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (!listening && stderr.includes('listening on')) {
          listening = true;
          resolve({ done });
        }
      });
      ch.end();
      done.then(() => {
        if (!listening) reject(new Error(`relay exited: ${stderr}`));
      });
    });
  });
}

describe('kaploy-relay chain broadcast through the NIC model', () => {
  let site: Site;
  let nodes: VirtualNode[];
  let opts: ReturnType<typeof nodeOptions>[];
  beforeEach(async () => {
    site = makeSite();
    writeFileSync(
      join(site.bootDir, 'default'),
      renderProfile({ kind: 'deploy_env', kernel: DEPLOY_KERNEL, initrd: 'i', params: '' }),
    );
    opts = [1, 2, 3].map((i) =>
      nodeOptions(site, `node-${i}.relay`, {
        hardware: { bootDelayMs: 50, nicBytesPerSec: 50 * 1024 * 1024 },
      }),
    );
    nodes = opts.map((o) => new VirtualNode(o));
    await Promise.all(nodes.map((n) => n.start()));
    await Promise.all(nodes.map((n) => waitState(n, 'deploy_env')));
  });
  afterEach(async () => {
    for (const n of nodes) await n.stop();
    site.cleanup();
  });

  it('streams one image through three nodes; each extracts it on its deploy partition', async () => {
    const clients = await Promise.all(
      opts.map((o) => connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic)),
    );
    for (const c of clients) {
      expect((await exec(c, nodeCommands.format('/dev/sda3', 'ext4'))).code).toBe(0);
      expect((await exec(c, nodeCommands.mount('/dev/sda3', '/mnt/dest'))).code).toBe(0);
    }
    const sink = nodeCommands.extractTar('gzip', '/mnt/dest');
    const port = 7011;
    // Last node first, so each relay's next hop is already listening.
    const relays = [];
    for (let i = 2; i >= 0; i--) {
      const next = opts[i + 1];
      relays.unshift(
        await startRelay(
          clients[i] as Client,
          nodeCommands.chainRelay(port, next ? `${next.address}:${port}` : undefined, sink),
        ),
      );
    }
    const image = readFileSync(buildImage(site.dir, 'chained'));
    await new Promise<void>((resolve, reject) => {
      const s = tcpConnect({ host: opts[0]?.address as string, port }, () => s.end(image, resolve));
      s.on('error', reject);
    });
    const results = await Promise.all(relays.map((r) => r.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    for (const o of opts) {
      expect(readFileSync(join(o.dir, 'disk/sda3/etc/hostname'), 'utf8')).toBe('chained\n');
      expect(readFileSync(join(o.dir, 'disk/sda3/bin/busybox')).equals(readFileSync('/bin/busybox'))).toBe(
        true,
      );
    }
    for (const c of clients) c.end();
  });

  it('a tree stage forwards to several children, connecting to each once they listen', async () => {
    const [c1, c2, c3] = await Promise.all(
      opts.map((o) => connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic)),
    );
    const port = 7013;
    const [o1, o2, o3] = opts as [
      ReturnType<typeof nodeOptions>,
      ReturnType<typeof nodeOptions>,
      ReturnType<typeof nodeOptions>,
    ];
    const root = await startRelay(
      c1 as Client,
      nodeCommands.chainRelay(port, [`${o2.address}:${port}`, `${o3.address}:${port}`], 'wc -c > /tmp/got'),
    );
    const payload = Buffer.alloc(1_000_000, 7);
    // Fed before its children listen: the root retries its refused connects.
    const fed = new Promise<void>((resolve, reject) => {
      const s = tcpConnect({ host: o1.address, port }, () => s.end(payload, resolve));
      s.on('error', reject);
    });
    const leaves = [
      await startRelay(c2 as Client, nodeCommands.chainRelay(port, undefined, 'wc -c > /tmp/got')),
      await startRelay(c3 as Client, nodeCommands.chainRelay(port, undefined, 'wc -c > /tmp/got')),
    ];
    await fed;
    for (const r of await Promise.all([root.done, ...leaves.map((l) => l.done)]))
      expect(r.code, r.stderr).toBe(0);
    for (const o of opts)
      expect(readFileSync(join(o.dir, 'deployenv/tmp/got'), 'utf8').trim()).toBe('1000000');
    for (const c of [c1, c2, c3]) c?.end();
  });

  // A child that resets as soon as data arrives, and one that closes its side at once (Node then
  // ends ours: that "finish" is not a served child, and must not stall the relay).
  const badChildren: [string, (s: Socket) => void][] = [
    ['resets', (s) => s.once('data', () => s.resetAndDestroy())],
    [
      'closes early',
      (s) => {
        s.end();
        s.resume();
      },
    ],
  ];
  for (const [what, behave] of badChildren) {
    it(`a child that ${what} is dropped: the relay still writes everything and exits with the sink status`, async () => {
      const o = opts[0] as ReturnType<typeof nodeOptions>;
      const bad = createServer(behave);
      await new Promise<void>((r) => bad.listen(0, '127.0.0.1', r));
      const badPort = (bad.address() as AddressInfo).port;
      const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
      const relay = await startRelay(
        c,
        nodeCommands.chainRelay(7012, `127.0.0.1:${badPort}`, 'wc -c > /tmp/got'),
      );
      // Written at the NIC rate in 16 KiB pieces: the child's reset or close comes long before the last byte.
      const payload = Buffer.alloc(8 * 1024 * 1024, 1);
      await new Promise<void>((resolve, reject) => {
        const s = tcpConnect({ host: o.address, port: 7012 }, () => s.end(payload, resolve));
        s.on('error', reject);
      });
      const r = await relay.done;
      bad.close();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`forwarding to 127.0.0.1:${badPort} failed`);
      expect(readFileSync(join(o.dir, 'deployenv/tmp/got'), 'utf8').trim()).toBe(String(payload.length));
      c.end();
    });
  }

  it('a relay whose sink dies early keeps forwarding the whole stream, then exits with the sink status', async () => {
    const [c1, c2] = await Promise.all(
      opts
        .slice(0, 2)
        .map((o) => connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic)),
    );
    const [o1, o2] = opts as [ReturnType<typeof nodeOptions>, ReturnType<typeof nodeOptions>];
    const port = 7015;
    const leaf = await startRelay(c2 as Client, nodeCommands.chainRelay(port, undefined, 'wc -c > /tmp/got'));
    const mid = await startRelay(
      c1 as Client,
      nodeCommands.chainRelay(port, `${o2.address}:${port}`, 'head -c 10 > /dev/null; exit 3'),
    );
    const payload = Buffer.alloc(4 * 1024 * 1024, 3);
    await new Promise<void>((resolve, reject) => {
      const s = tcpConnect({ host: o1.address, port }, () => s.end(payload, resolve));
      s.on('error', reject);
    });
    expect((await mid.done).code).toBe(3);
    expect((await leaf.done).code).toBe(0);
    expect(readFileSync(join(o2.dir, 'deployenv/tmp/got'), 'utf8').trim()).toBe(String(payload.length));
    c1?.end();
    c2?.end();
  });

  it('an upstream that breaks before EOF fails the relay even if its sink succeeded', async () => {
    const o = opts[0] as ReturnType<typeof nodeOptions>;
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    const relay = await startRelay(c, nodeCommands.chainRelay(7014, undefined, 'cat > /tmp/got'));
    await new Promise<void>((resolve, reject) => {
      const s = tcpConnect({ host: o.address, port: 7014 }, () =>
        s.write('partial', () => {
          // Reset (RST, not FIN) once the write has left: Node sends a FIN if reset right in the callback.
          setTimeout(() => {
            s.resetAndDestroy();
            resolve();
          }, 20);
        }),
      );
      s.on('error', reject);
    });
    const r = await relay.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('broke before the end of the stream');
    c.end();
  });
});

describe('TokenBucket paces bytes at its rate (fake clock)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  it('lets a burst through, then one second per `rate` bytes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    const b = new TokenBucket(1000, 100);
    let passed = 0;
    await b.take(100);
    passed += 100;
    const next = b.take(500).then(() => {
      passed += 500;
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(passed).toBe(100);
    await vi.advanceTimersByTimeAsync(1);
    await next;
    expect(passed).toBe(600);
  });
  it('refuses nonsense rates', () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN)).toThrow(RangeError);
  });
});
