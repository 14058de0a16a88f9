import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryHostKeyStore, SshPool } from '../../../src/engine/ssh/index.js';
import { eventually, type Fixture, fixture } from './helpers/fixture.js';
import { generateKey, startTestSshServer } from './helpers/test-ssh-server.js';

describe('SshPool connection lifecycle', () => {
  let f: Fixture | undefined;
  const extra: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await f?.close();
    f = undefined;
    for (const c of extra.splice(0)) await c();
  });

  it('a queued exec survives a timeout on its connection: it runs on a fresh connection', async () => {
    f = await fixture({ maxChannelsPerConnection: 1 });
    const fx = f;
    const hung = fx.pool.exec(fx.target, 'sleep 30', { timeoutMs: 400 }).catch((e: unknown) => e);
    await eventually(() => fx.server.stats.activeChannels === 1);
    const queued = fx.pool.exec(fx.target, 'echo queued');
    expect(await hung).toMatchObject({ kind: 'timeout' });
    expect((await queued).stdout).toBe('queued\n');
    expect(fx.server.stats.connections).toBe(2);
  });

  it('the per-command timeout also bounds the wait for a channel', async () => {
    f = await fixture({ maxChannelsPerConnection: 1 });
    const fx = f;
    const first = fx.pool.exec(fx.target, 'sleep 0.8; echo first');
    await eventually(() => fx.server.stats.activeChannels === 1);
    await expect(fx.pool.exec(fx.target, 'echo late', { timeoutMs: 100 })).rejects.toMatchObject({
      kind: 'timeout',
    });
    expect((await first).stdout).toBe('first\n');
    expect(fx.server.stats.execs).not.toContain('echo late');
  });

  it('the per-command timeout also bounds a connect that hangs', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    extra.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    });
    const a = silent.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    const pool = new SshPool({ privateKey: generateKey().privateKey, hostKeys: new MemoryHostKeyStore() });
    extra.push(() => pool.closeAll());
    await expect(
      pool.exec({ node: 'node-5', host: '127.0.0.1', port, username: 'root' }, 'true', { timeoutMs: 200 }),
    ).rejects.toMatchObject({ kind: 'timeout', node: 'node-5' });
  });

  it("reconnects when a node's address changes", async () => {
    f = await fixture();
    const fx = f;
    await fx.pool.exec(fx.target, 'true');
    const moved = await startTestSshServer({ authorizedKey: fx.engineKey.publicKey, hostKey: undefined });
    extra.push(() => moved.close());
    fx.store.forget('node-1');
    const r = await fx.pool.exec({ ...fx.target, port: moved.port }, 'echo moved', { trustOnFirstUse: true });
    expect(r.stdout).toBe('moved\n');
    expect(moved.stats.connections).toBe(1);
  });

  it('closeAll() fails the commands still running with connection_lost', async () => {
    f = await fixture();
    const fx = f;
    const running = fx.pool.exec(fx.target, 'sleep 30').catch((e: unknown) => e);
    await eventually(() => fx.server.stats.activeChannels === 1);
    await fx.pool.closeAll();
    expect(await running).toMatchObject({ kind: 'connection_lost', node: 'node-1' });
  });
});
