import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryHostKeyStore, SshPool } from '../../../src/engine/ssh/index.js';
import { type Fixture, fixture } from './helpers/fixture.js';
import { newEd25519, publicBlobOf } from './helpers/test-ssh-server.js';

describe('SshPool host key pinning', () => {
  let f: Fixture;
  let store: MemoryHostKeyStore;
  let pool: SshPool;
  beforeEach(async () => {
    f = await fixture();
    store = new MemoryHostKeyStore();
    pool = new SshPool({ privateKey: f.engineKey.privateKey, hostKeys: store });
  });
  afterEach(async () => {
    await pool.closeAll();
    await f.close();
  });

  it('refuses an unknown host key without trustOnFirstUse, and runs nothing', async () => {
    const err = await pool.exec(f.target, 'true').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SshError', kind: 'host_key_mismatch', node: 'node-1' });
    expect((err as Error).message).toMatch(/unknown/);
    expect(store.get('node-1')).toBeUndefined();
    expect(f.server.stats.execs).toEqual([]);
  });

  it('learns an unknown host key with trustOnFirstUse, then pins it', async () => {
    expect((await pool.exec(f.target, 'echo hi', { trustOnFirstUse: true })).stdout).toBe('hi\n');
    expect(store.get('node-1')?.equals(f.server.hostKeyBlob)).toBe(true);
    expect(store.verify('node-1', f.server.hostKeyBlob)).toBe('match');
  });

  it('never accepts a mismatching key, even with trustOnFirstUse', async () => {
    const otherKey = publicBlobOf(newEd25519().private);
    store.learn('node-1', otherKey);
    const err = await pool.exec(f.target, 'true', { trustOnFirstUse: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'host_key_mismatch', node: 'node-1' });
    expect((err as Error).message).toMatch(/does not match/);
    expect(store.get('node-1')?.equals(otherKey)).toBe(true);
    expect(f.server.stats.execs).toEqual([]);
  });

  it('checks the key again on reconnect: a node that comes back with another key is refused', async () => {
    await pool.exec(f.target, 'true', { trustOnFirstUse: true });
    f.server.dropAll();
    store.learn('node-1', publicBlobOf(newEd25519().private));
    await expect(pool.exec(f.target, 'true')).rejects.toMatchObject({ kind: 'host_key_mismatch' });
  });

  it('concurrent first execs share the connect; one asking for trust on first use is enough', async () => {
    const results = await Promise.all([
      pool.exec(f.target, 'echo a'),
      pool.exec(f.target, 'echo b', { trustOnFirstUse: true }),
    ]);
    expect(results.map((r) => r.stdout)).toEqual(['a\n', 'b\n']);
    expect(f.server.stats.connections).toBe(1);
  });

  it('reports a failing host key store as a host key error, not a crash', async () => {
    const broken = new SshPool({
      privateKey: f.engineKey.privateKey,
      hostKeys: {
        verify: () => 'unknown',
        learn: () => {
          throw new Error('disk full');
        },
      },
    });
    const err = await broken.exec(f.target, 'true', { trustOnFirstUse: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'host_key_mismatch' });
    expect((err as Error).message).toContain('disk full');
    await broken.closeAll();
  });
});
