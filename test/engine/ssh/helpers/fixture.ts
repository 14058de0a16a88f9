import {
  MemoryHostKeyStore,
  SshPool,
  type SshPoolOptions,
  type SshTarget,
} from '../../../../src/engine/ssh/index.js';
import {
  generateKey,
  startTestSshServer,
  type TestSshServer,
  type TestSshServerOptions,
} from './test-ssh-server.js';

export interface Fixture {
  server: TestSshServer;
  pool: SshPool;
  store: MemoryHostKeyStore;
  target: SshTarget;
  engineKey: ReturnType<typeof generateKey>;
  close(): Promise<void>;
}

/** A test server, an engine key it accepts, a store that already pins its host key, and a pool. */
export async function fixture(
  poolOpts: Partial<SshPoolOptions> = {},
  serverOpts: Partial<TestSshServerOptions> = {},
): Promise<Fixture> {
  const engineKey = generateKey();
  const server = await startTestSshServer({ authorizedKey: engineKey.publicKey, ...serverOpts });
  const store = new MemoryHostKeyStore();
  store.learn('node-1', server.hostKeyBlob);
  const pool = new SshPool({ privateKey: engineKey.privateKey, hostKeys: store, ...poolOpts });
  const target: SshTarget = { node: 'node-1', host: server.host, port: server.port, username: 'root' };
  return {
    server,
    pool,
    store,
    target,
    engineKey,
    close: async () => {
      await pool.closeAll();
      await server.close();
    },
  };
}

/** Polls until `cond` holds (server-side effects are asynchronous); fails the test after `ms`. */
export async function eventually(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
