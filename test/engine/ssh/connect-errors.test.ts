import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryHostKeyStore, SshPool } from '../../../src/engine/ssh/index.js';
import { type Fixture, fixture } from './helpers/fixture.js';
import { generateKey } from './helpers/test-ssh-server.js';

function listen(
  onSocket: (s: Socket) => void,
): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    onSocket(s);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : 0, sockets });
    }),
  );
}

async function closeServer(x: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const s of x.sockets) s.destroy();
  await new Promise((r) => x.server.close(r));
}

describe('SshPool connect errors', () => {
  let f: Fixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('connection refused: nothing listens on the port', async () => {
    // Take a free port and release it so nothing listens there.
    const x = await listen(() => {});
    const port = x.port;
    await closeServer(x);
    const pool = new SshPool({ privateKey: generateKey().privateKey, hostKeys: new MemoryHostKeyStore() });
    await expect(
      pool.exec({ node: 'node-9', host: '127.0.0.1', port, username: 'root' }, 'true'),
    ).rejects.toMatchObject({
      name: 'SshError',
      kind: 'connect_refused',
      node: 'node-9',
      code: 'KAPLOY_EXECUTE',
    });
  });

  it('connect timeout: a TCP server that accepts and never speaks', async () => {
    const x = await listen(() => {});
    const pool = new SshPool({
      privateKey: generateKey().privateKey,
      hostKeys: new MemoryHostKeyStore(),
      connectTimeoutMs: 300,
    });
    const err = await pool
      .exec({ node: 'node-9', host: '127.0.0.1', port: x.port, username: 'root' }, 'true')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'connect_timeout', node: 'node-9' });
    expect((err as Error).message).toContain('timed out');
    await closeServer(x);
  });

  it('connection lost during the handshake: the server closes at once', async () => {
    const x = await listen((s) => s.end('SSH-2.0-broken\r\n'));
    const pool = new SshPool({ privateKey: generateKey().privateKey, hostKeys: new MemoryHostKeyStore() });
    await expect(
      pool.exec({ node: 'node-9', host: '127.0.0.1', port: x.port, username: 'root' }, 'true'),
    ).rejects.toMatchObject({ kind: 'connection_lost', node: 'node-9' });
    await closeServer(x);
  });

  it('auth failed: the server does not know the engine key', async () => {
    f = await fixture();
    const other = new SshPool({ privateKey: generateKey().privateKey, hostKeys: f.store });
    const err = await other.exec(f.target, 'true').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'auth_failed', node: 'node-1' });
    expect(f.server.stats.execs).toEqual([]);
    await other.closeAll();
  });

  it('a failed connect is not cached: the next exec tries again', async () => {
    f = await fixture();
    const store = new MemoryHostKeyStore();
    const pool = new SshPool({ privateKey: f.engineKey.privateKey, hostKeys: store });
    await expect(pool.exec(f.target, 'true')).rejects.toMatchObject({ kind: 'host_key_mismatch' });
    store.learn('node-1', f.server.hostKeyBlob);
    expect((await pool.exec(f.target, 'echo ok')).stdout).toBe('ok\n');
    await pool.closeAll();
  });
});
