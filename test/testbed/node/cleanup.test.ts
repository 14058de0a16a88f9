import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderProfile } from '../../../src/formats/pxe-profile.js';
import {
  connect,
  DEPLOY_KERNEL,
  exec,
  makeSite,
  nodeOptions,
  type Site,
  VirtualNode,
  waitState,
} from './fixtures.js';

/** Pids whose command line contains `marker` (read from /proc, nothing is signalled). */
function pidsWith(marker: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker)) pids.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Polls until no process carries `marker` (the test timeout bounds it). */
async function gone(marker: string): Promise<void> {
  while (pidsWith(marker).length > 0) await sleep(20);
}

describe('processes die with their channel and with the running system', () => {
  let site: Site;
  let node: VirtualNode;
  let o: ReturnType<typeof nodeOptions>;
  beforeAll(async () => {
    site = makeSite();
    o = nodeOptions(site, 'node-1.cleanup');
    writeFileSync(
      join(site.bootDir, 'default'),
      renderProfile({ kind: 'deploy_env', kernel: DEPLOY_KERNEL, initrd: 'i', params: '' }),
    );
    node = new VirtualNode(o);
    await node.start();
    await waitState(node, 'deploy_env');
  });
  afterAll(async () => {
    await node.stop();
    site.cleanup();
  });

  const startSleeper = async (marker: string) => {
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate);
    c.exec(`echo started; sleep ${marker}`, (err, ch) => {
      if (err) throw err;
      ch.resume();
      ch.stderr.resume();
    });
    while (pidsWith(`sleep ${marker}`).length === 0) await sleep(20);
    return c;
  };

  it('closing the connection kills the command and everything it started', async () => {
    const marker = `${9_000_000 + (process.pid % 100_000)}`;
    const c = await startSleeper(marker);
    c.end();
    await gone(`sleep ${marker}`);
    const again = await connect(o.address, o.sshPort, site.keys.enginePrivate);
    expect((await exec(again, 'echo alive')).stdout).toBe('alive\n');
    again.end();
  });

  it('a client vanishing in the middle of a stream leaves the node serving', async () => {
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate);
    c.exec('cat > /dev/null', (err, ch) => {
      if (err) throw err;
      ch.write(Buffer.alloc(4 * 1024 * 1024));
      setImmediate(() => (c as unknown as { _sock: { destroy(): void } })._sock.destroy());
    });
    await new Promise((r) => c.once('close', () => r(undefined)));
    const again = await connect(o.address, o.sshPort, site.keys.enginePrivate);
    expect((await exec(again, 'echo alive')).stdout).toBe('alive\n');
    again.end();
  });

  it('a reset kills what the previous system was running', async () => {
    const marker = `${8_000_000 + (process.pid % 100_000)}`;
    await startSleeper(marker);
    await node.reboot('hard');
    await gone(`sleep ${marker}`);
    await waitState(node, 'deploy_env');
  });
});
