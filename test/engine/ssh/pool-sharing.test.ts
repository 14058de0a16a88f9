import { afterEach, describe, expect, it } from 'vitest';
import { type Fixture, fixture } from './helpers/fixture.js';

describe('SshPool connection sharing', () => {
  let f: Fixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('reuses one connection per node across sequential commands', async () => {
    f = await fixture();
    for (let i = 0; i < 10; i++) {
      expect((await f.pool.exec(f.target, `echo ${i}`)).stdout).toBe(`${i}\n`);
    }
    expect(f.server.stats.connections).toBe(1);
  });

  it('shares one connect attempt between concurrent first execs', async () => {
    f = await fixture();
    const fx = f;
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => fx.pool.exec(fx.target, `echo ${i}`)),
    );
    expect(results.map((r) => r.stdout)).toEqual(['0\n', '1\n', '2\n', '3\n', '4\n']);
    expect(f.server.stats.connections).toBe(1);
  });

  it('bounds the channels open at once; execs beyond the bound wait and all complete', async () => {
    f = await fixture({ maxChannelsPerConnection: 3 });
    const fx = f;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => fx.pool.exec(fx.target, `sleep 0.1; echo ${i}`)),
    );
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    expect(f.server.stats.connections).toBe(1);
    expect(f.server.stats.maxActiveChannels).toBe(3);
  });

  it('reports a refused channel as channel_refused with the node', async () => {
    // The server allows 2 sessions while the pool would open 4: the extra ones are refused.
    f = await fixture({ maxChannelsPerConnection: 4 }, { maxSessions: 2 });
    const fx = f;
    const settled = await Promise.allSettled(
      Array.from({ length: 4 }, () => fx.pool.exec(fx.target, 'sleep 0.3')),
    );
    const refused = settled.filter((s) => s.status === 'rejected');
    expect(refused.length).toBe(2);
    for (const r of refused) {
      expect(r.reason).toMatchObject({
        name: 'SshError',
        kind: 'channel_refused',
        node: 'node-1',
        code: 'KAPLOY_EXECUTE',
      });
    }
    // The connection itself is fine.
    expect((await f.pool.exec(f.target, 'echo ok')).stdout).toBe('ok\n');
  });

  it('reconnects on the next exec after the node dropped the connection (reboot)', async () => {
    f = await fixture();
    expect((await f.pool.exec(f.target, 'echo before')).stdout).toBe('before\n');
    f.server.dropAll();
    expect((await f.pool.exec(f.target, 'echo after')).stdout).toBe('after\n');
    expect(f.server.stats.connections).toBe(2);
  });

  it('forget() drops the connection; the next exec reconnects', async () => {
    f = await fixture();
    await f.pool.exec(f.target, 'true');
    f.pool.forget('node-1');
    await f.pool.exec(f.target, 'true');
    expect(f.server.stats.connections).toBe(2);
  });

  it('keeps separate connections for separate nodes', async () => {
    f = await fixture();
    f.store.learn('node-2', f.server.hostKeyBlob);
    await f.pool.exec(f.target, 'true');
    await f.pool.exec({ ...f.target, node: 'node-2' }, 'true');
    await f.pool.exec(f.target, 'true');
    expect(f.server.stats.connections).toBe(2);
  });

  it('closeAll() ends every connection; the pool reconnects afterwards', async () => {
    f = await fixture();
    await f.pool.exec(f.target, 'true');
    await f.pool.closeAll();
    await f.pool.exec(f.target, 'true');
    expect(f.server.stats.connections).toBe(2);
  });
});
