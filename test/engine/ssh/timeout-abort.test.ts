import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, type Fixture, fixture } from './helpers/fixture.js';

describe('SshPool timeouts, aborts and lost connections', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  });
  afterEach(async () => {
    await f.close();
  });

  // ssh2's Server drops channel requests after the client's EOF (OpenSSH does not), so the KILL
  // sent to a command without stdin is observed in test/slow/ssh; here the channel closes.
  it('times out a command: SshError timeout, its channel and then its connection are closed', async () => {
    await f.pool.exec(f.target, 'true'); // connected, so the timeout bounds only the command
    const err = await f.pool.exec(f.target, 'sleep 30', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'SshError', kind: 'timeout', node: 'node-1', code: 'KAPLOY_EXECUTE' });
    expect((err as Error).message).toContain('node-1');
    await eventually(() => f.server.stats.activeChannels === 0 && f.server.stats.channelsClosed === 2).catch(
      (e) => {
        throw new Error(`${e.message}: ${JSON.stringify(f.server.stats)}`);
      },
    );
    // The connection was closed after the channel: the next exec opens a new one.
    expect((await f.pool.exec(f.target, 'echo next')).stdout).toBe('next\n');
    expect(f.server.stats.connections).toBe(2);
  });

  it('aborts a running command through its AbortSignal', async () => {
    const ac = new AbortController();
    const p = f.pool.exec(f.target, 'sleep 30', { signal: ac.signal });
    await eventually(() => f.server.stats.activeChannels === 1);
    const reason = new Error('operator cancelled');
    ac.abort(reason);
    const err = await p.catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'aborted', node: 'node-1' });
    expect((err as Error).cause).toBe(reason);
    await eventually(() => f.server.stats.activeChannels === 0);
  });

  it('rejects at once with an already aborted signal, without connecting', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(f.pool.exec(f.target, 'true', { signal: ac.signal })).rejects.toMatchObject({
      kind: 'aborted',
    });
    expect(f.server.stats.connections).toBe(0);
  });

  it('aborts an exec waiting for a channel slot, leaving the running ones alone', async () => {
    await f.close();
    f = await fixture({ maxChannelsPerConnection: 1 });
    const first = f.pool.exec(f.target, 'sleep 0.5; echo first');
    await eventually(() => f.server.stats.activeChannels === 1);
    const ac = new AbortController();
    const waiting = f.pool.exec(f.target, 'echo never', { signal: ac.signal });
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ kind: 'aborted' });
    expect((await first).stdout).toBe('first\n');
    expect(f.server.stats.execs).not.toContain('echo never');
  });

  it("a timeout does not cut the node's other running commands short", async () => {
    const other = f.pool.exec(f.target, 'sleep 0.6; echo other');
    await eventually(() => f.server.stats.activeChannels === 1);
    await expect(f.pool.exec(f.target, 'sleep 30', { timeoutMs: 200 })).rejects.toMatchObject({
      kind: 'timeout',
    });
    expect(await other).toMatchObject({ exitCode: 0, stdout: 'other\n' });
  });

  it('reports connection_lost when the node drops mid-command', async () => {
    const p = f.pool.exec(f.target, 'sleep 30');
    await eventually(() => f.server.stats.activeChannels === 1);
    f.server.dropAll();
    await expect(p).rejects.toMatchObject({ name: 'SshError', kind: 'connection_lost', node: 'node-1' });
  });

  it('detects a node that hangs with keepalives: connection_lost, and the next exec reconnects', async () => {
    await f.close();
    f = await fixture({ keepaliveIntervalMs: 100 });
    const p = f.pool.exec(f.target, 'sleep 30').catch((e: unknown) => e);
    await eventually(() => f.server.stats.activeChannels === 1);
    f.server.freezeAll();
    const err = await p;
    expect(err).toMatchObject({ kind: 'connection_lost', node: 'node-1' });
    expect((err as Error).message).toMatch(/keepalive/i);
    expect((await f.pool.exec(f.target, 'echo back')).stdout).toBe('back\n');
  });

  it('reports connection_lost while stdin is still streaming', async () => {
    const src = new PassThrough();
    src.write(Buffer.alloc(1024));
    const p = f.pool.exec(f.target, 'cat >/dev/null', { stdin: src });
    await eventually(() => f.server.stats.activeChannels === 1);
    f.server.dropAll();
    await expect(p).rejects.toMatchObject({ kind: 'connection_lost' });
  });

  it('times out a command whose stdin never ends: KILL is sent, then the channel closes', async () => {
    const src = new PassThrough();
    await expect(f.pool.exec(f.target, 'cat', { stdin: src, timeoutMs: 300 })).rejects.toMatchObject({
      kind: 'timeout',
    });
    expect(src.destroyed).toBe(true);
    await eventually(() => f.server.stats.activeChannels === 0);
    expect(f.server.stats.signals).toEqual(['KILL']);
  });

  it('turns a failing stdin stream into an error and stops the command', async () => {
    const src = new PassThrough();
    const p = f.pool.exec(f.target, 'cat >/dev/null', { stdin: src });
    await eventually(() => f.server.stats.activeChannels === 1);
    src.destroy(new Error('image download failed'));
    const err = await p.catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'aborted', node: 'node-1' });
    expect((err as Error).message).toContain('image download failed');
    await eventually(() => f.server.stats.activeChannels === 0);
  });
});
