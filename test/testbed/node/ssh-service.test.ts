import { Client, type ClientChannel } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateReadableKeyPair } from '../../../src/testbed/manager/keys.js';
import {
  connect,
  exec,
  makeSite,
  type nodeOptions,
  type Site,
  startInDeployEnv,
  type VirtualNode,
} from './fixtures.js';

describe("the node's SSH server", () => {
  let site: Site;
  let node: VirtualNode;
  let o: ReturnType<typeof nodeOptions>;
  beforeAll(async () => {
    site = makeSite();
    ({ node, o } = await startInDeployEnv(site, 'node-1.ssh', 'default'));
  });
  afterAll(async () => {
    await node.stop();
    site.cleanup();
  });

  it('negotiates curve25519-sha256 and presents the node host key', async () => {
    const kex = await new Promise<string>((resolve, reject) => {
      const c = new Client();
      c.on('handshake', (n) => {
        resolve(n.kex);
        c.end();
      });
      c.on('error', reject);
      c.connect({
        host: o.address,
        port: o.sshPort,
        username: 'root',
        privateKey: site.keys.enginePrivate,
        hostVerifier: (k: Buffer) => k.equals(site.keys.hostPublic),
      });
    });
    expect(kex).toMatch(/^curve25519-sha256/);
  });

  it('accepts only root with an authorised key', async () => {
    const stranger = generateReadableKeyPair();
    await expect(connect(o.address, o.sshPort, stranger.private)).rejects.toThrow(/authentication/i);
    await expect(
      new Promise((resolve, reject) => {
        const c = new Client();
        c.on('ready', () => resolve(undefined));
        c.on('error', reject);
        c.connect({
          host: o.address,
          port: o.sshPort,
          username: 'admin',
          privateKey: site.keys.enginePrivate,
        });
      }),
    ).rejects.toThrow(/authentication/i);
    // A key appended by a command takes effect at once (send_key_in_deploy_env).
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate);
    expect((await exec(c, 'cat >> /root/.ssh/authorized_keys', `${stranger.public}\n`)).code).toBe(0);
    c.end();
    const s = await connect(o.address, o.sshPort, stranger.private);
    expect((await exec(s, 'hostname')).stdout).toBe('node-1.ssh\n');
    s.end();
  });

  it('propagates exit codes and stdio, and a signal kills the command', async () => {
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate);
    expect(await exec(c, 'echo out; echo err >&2; exit 7')).toEqual({
      code: 7,
      stdout: 'out\n',
      stderr: 'err\n',
    });
    expect((await exec(c, 'wc -c', Buffer.alloc(300_000, 1))).stdout.trim()).toBe('300000');
    const killed = await new Promise<{ code: number | null; signal?: string }>((resolve, reject) => {
      c.exec('echo started; sleep 1000', (err, ch: ClientChannel) => {
        if (err) return reject(err);
        let code: number | null = null;
        let signal: string | undefined;
        ch.on('exit', (c2: number | null, sig?: string) => {
          code = c2;
          signal = sig;
        });
        ch.once('data', () => ch.signal('TERM'));
        ch.on('close', () => resolve({ code, ...(signal ? { signal } : {}) }));
      });
    });
    expect(killed).toEqual({ code: null, signal: 'SIGKILL' });
    c.end();
  });

  it('an interactive shell runs in the sandbox', async () => {
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate);
    const out = await new Promise<string>((resolve, reject) => {
      c.shell((err, ch) => {
        if (err) return reject(err);
        let text = '';
        ch.on('data', (d: Buffer) => {
          text += d.toString();
        });
        ch.on('close', () => resolve(text));
        ch.end('hostname; exit\n');
      });
    });
    expect(out).toContain('node-1.ssh');
    c.end();
  });

  it('bounds sessions per connection at 10, as OpenSSH MaxSessions', async () => {
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate);
    const open = () =>
      new Promise<ClientChannel>((resolve, reject) => {
        c.exec('sleep 1000', (err, ch) => {
          if (err) return reject(err);
          ch.resume(); // a client channel emits 'close' only once its data was consumed
          ch.stderr.resume();
          resolve(ch);
        });
      });
    const channels: ClientChannel[] = [];
    for (let i = 0; i < 10; i++) channels.push(await open());
    await expect(open()).rejects.toThrow();
    const closed = channels.map((ch) => new Promise((r) => ch.on('close', r)));
    for (const ch of channels) ch.close();
    await Promise.all(closed);
    expect((await exec(c, 'echo again')).stdout).toBe('again\n');
    c.end();
  });
});
