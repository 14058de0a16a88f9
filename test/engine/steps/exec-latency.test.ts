import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coalesceWrites } from '../../../src/common/coalesce-writes.js';
import type { SshTarget } from '../../../src/engine/ssh/index.js';
import { nodeCommands } from '../../../src/formats/node-commands.js';
import { waitState } from '../../testbed/node/fixtures.js';
import { startVSite, type VSite } from './helpers/vsite.js';

// Nagle's algorithm on either side of the engine's SSH connection held the second small packet
// of an exchange until the peer's delayed ACK (40 ms on Linux). Sequential commands on one
// connection show it: without the engine's TCP_NODELAY both cases below stall on every command,
// without the node writing its answer's packets together (coalesceWrites) the one with stdin does.
// A stall costs a whole delayed-ACK timer (40 ms) on every command, whatever the machine's load;
// without it a command takes a few ms, tens on a loaded machine. So the test looks at the median
// command against the stall's own signature, not at a total (which a busy CI machine exceeded).
const N = 30;
const STALL_MS = 40;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe('commands on one SSH connection are not held by Nagle stalls', () => {
  let v: VSite;
  let target: SshTarget;
  beforeAll(async () => {
    v = await startVSite({ n: 1 });
    await waitState(v.nodes[0] as NonNullable<(typeof v.nodes)[0]>, 'production');
    const node = v.site.clusters[0]?.nodes[0];
    target = {
      node: v.names[0] as string,
      host: node?.address as string,
      port: v.site.clusters[0]?.sshPort as number,
      username: 'root',
    };
    // Connect (and learn the host key) once, outside the timing.
    await v.pool.exec(target, nodeCommands.sync(), { trustOnFirstUse: true });
  });
  afterAll(async () => {
    await v?.close();
  });

  it('commands without stdin', async () => {
    const took: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      expect((await v.pool.exec(target, nodeCommands.sync())).exitCode).toBe(0);
      took.push(performance.now() - t0);
    }
    expect(median(took)).toBeLessThan(STALL_MS);
  });

  it('commands with stdin', async () => {
    const took: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      const r = await v.pool.exec(target, nodeCommands.writeFile('/tmp/kaploy-latency/f'), {
        stdin: `${i}\n`,
      });
      expect(r.exitCode).toBe(0);
      took.push(performance.now() - t0);
    }
    expect(median(took)).toBeLessThan(STALL_MS);
  });
});

describe('coalesceWrites', () => {
  it('what is written in one event-loop turn leaves in one write, in order', async () => {
    let server!: Socket;
    const srv = createServer((s) => {
      server = s;
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const client = tcpConnect(port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    await new Promise((r) => setTimeout(r, 20));
    coalesceWrites(server);
    const got: Buffer[] = [];
    client.on('data', (d: Buffer) => got.push(d));
    server.write('exit-status ');
    expect(server.writableCorked).toBe(1);
    server.write('eof ');
    server.write('close');
    expect(server.writableCorked).toBe(1);
    await new Promise((r) => process.nextTick(r));
    expect(server.writableCorked).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(Buffer.concat(got).toString()).toBe('exit-status eof close');
    server.write('next turn');
    expect(server.writableCorked).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(Buffer.concat(got).toString()).toBe('exit-status eof closenext turn');
    // Cut in the same turn (a power loss right after answering): what was written still leaves.
    const closed = new Promise((r) => client.once('close', r));
    server.write(' last');
    server.destroy();
    await closed;
    expect(Buffer.concat(got).toString()).toBe('exit-status eof closenext turn last');
    client.destroy();
    server.destroy();
    srv.close();
  });
});
