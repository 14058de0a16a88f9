import { readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeCommands } from '../../../src/formats/node-commands.js';
import { renderProfile } from '../../../src/formats/pxe-profile.js';
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

const tcpOpen = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcpConnect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

// Waits used below only ever let a node run *longer* than its (50 ms) boot: a node that is still
// dark afterwards is dark because of the fault, however slow the machine is.
const SETTLE_MS = 400;

describe('fault injection', () => {
  let site: Site;
  let node: VirtualNode;
  let o: ReturnType<typeof nodeOptions>;
  beforeEach(async () => {
    site = makeSite();
    o = nodeOptions(site, 'node-1.faults');
    writeFileSync(
      join(site.bootDir, 'default'),
      renderProfile({ kind: 'deploy_env', kernel: DEPLOY_KERNEL, initrd: 'i', params: '' }),
    );
    node = new VirtualNode(o);
    await node.start();
    await waitState(node, 'deploy_env');
  });
  afterEach(async () => {
    await node.stop();
    site.cleanup();
  });
  const ssh = () => connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
  const prepareDeployPart = async () => {
    const c = await ssh();
    expect((await exec(c, nodeCommands.format('/dev/sda3', 'ext4'))).code).toBe(0);
    expect((await exec(c, nodeCommands.mount('/dev/sda3', '/mnt/dest'))).code).toBe(0);
    return c;
  };

  it('no_reboot: the node stays dark after the next reboot; a later reset brings it back', async () => {
    node.injectFault({ kind: 'no_reboot', times: 1 });
    await node.reboot('soft');
    await sleep(SETTLE_MS);
    expect(node.status()).toMatchObject({ power: 'on', state: 'booting', faults: [] });
    expect(await tcpOpen(o.address, o.sshPort)).toBe(false);
    await node.reboot('hard');
    await waitState(node, 'deploy_env');
  });

  it('no_reboot triggered by the reboot command line', async () => {
    node.injectFault({ kind: 'no_reboot', when: '^reboot$' });
    const c = await ssh();
    expect((await exec(c, nodeCommands.reboot())).code).toBe(0);
    await sleep(SETTLE_MS);
    expect(node.status().state).toBe('booting');
    // A power-on (not a reboot) is not matched by the regex.
    await node.powerOff();
    await node.powerOn();
    await waitState(node, 'deploy_env');
  });

  it('slow_boot delays the boot by extraMs', async () => {
    node.injectFault({ kind: 'slow_boot', extraMs: 5000, times: 1 });
    await node.reboot('hard');
    await sleep(SETTLE_MS);
    expect(node.status().state).toBe('booting');
    await node.reboot('hard'); // the fault was used up: a normal boot
    await waitState(node, 'deploy_env');
  });

  it('hang on a command: accepted, never answered, other commands unaffected', async () => {
    node.injectFault({ kind: 'hang', when: '^tar ' });
    const c = await ssh();
    let answered = false;
    c.exec('tar --version', (err, ch) => {
      expect(err).toBeUndefined();
      ch.on('data', () => {
        answered = true;
      });
      ch.on('exit', () => {
        answered = true;
      });
    });
    const r = await exec(c, 'echo fine');
    expect(r).toMatchObject({ code: 0, stdout: 'fine\n' });
    await sleep(SETTLE_MS);
    expect(answered).toBe(false);
    c.end();
  });

  it('hang at boot: TCP is accepted but the SSH handshake never completes', async () => {
    node.injectFault({ kind: 'hang', when: 'boot', times: 1 });
    await node.reboot('hard');
    await waitState(node, 'deploy_env');
    expect(await tcpOpen(o.address, o.sshPort)).toBe(true);
    expect(await tcpOpen(o.address, o.markerPort)).toBe(true);
    await expect(
      connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic, 300),
    ).rejects.toThrow(/handshake/i);
  });

  it('drop_connection cuts the SSH connection after afterBytes of the command input', async () => {
    const c = await prepareDeployPart();
    node.injectFault({ kind: 'drop_connection', when: 'tar', afterBytes: 4096 });
    const closed = new Promise((r) => c.once('close', () => r(undefined)));
    const image = readFileSync(buildImage(site.dir, 'big'));
    const r = await exec(c, nodeCommands.extractTar('gzip', '/mnt/dest'), image);
    expect(r.code).toBeNull();
    await closed;
    expect(node.status().state).toBe('deploy_env');
    const again = await ssh();
    expect((await exec(again, 'echo up')).stdout).toBe('up\n');
    again.end();
  });

  it('corrupt_disk makes the extraction fail', async () => {
    const c = await prepareDeployPart();
    node.injectFault({ kind: 'corrupt_disk', when: 'tar -C', times: 1 });
    const image = readFileSync(buildImage(site.dir, 'img'));
    const bad = await exec(c, nodeCommands.extractTar('gzip', '/mnt/dest'), image);
    expect(bad.code).not.toBe(0);
    expect(node.status().faults).toEqual([]);
    const good = await exec(c, nodeCommands.extractTar('gzip', '/mnt/dest'), image);
    expect(good.code).toBe(0);
    expect(readFileSync(join(o.dir, 'disk/sda3/etc/hostname'), 'utf8')).toBe('img\n');
    c.end();
  });

  it('slow_disk still writes every byte intact', async () => {
    const c = await prepareDeployPart();
    node.injectFault({ kind: 'slow_disk', bytesPerSec: 4 * 1024 * 1024 });
    const image = readFileSync(buildImage(site.dir, 'slow'));
    expect((await exec(c, nodeCommands.extractTar('gzip', '/mnt/dest'), image)).code).toBe(0);
    expect(readFileSync(join(o.dir, 'disk/sda3/bin/busybox')).equals(readFileSync('/bin/busybox'))).toBe(
      true,
    );
    c.end();
  });

  it('power_loss on a command: the node goes off at once', async () => {
    node.injectFault({ kind: 'power_loss', when: '^sync$', times: 1 });
    const c = await ssh();
    const closed = new Promise((r) => c.once('close', () => r(undefined)));
    const r = await exec(c, nodeCommands.sync());
    expect(r.code).toBeNull();
    await closed;
    expect(node.status()).toMatchObject({ power: 'off', state: 'off' });
    await node.powerOn();
    await waitState(node, 'deploy_env');
  });

  it('power_loss at boot', async () => {
    node.injectFault({ kind: 'power_loss', when: 'reboot', times: 1 });
    await node.reboot('hard');
    expect(node.status()).toMatchObject({ power: 'off', state: 'off' });
  });

  it('invalid faults are refused where they enter', () => {
    const bad: unknown[] = [
      { kind: 'meteor' },
      { kind: 'hang', when: '(' },
      { kind: 'hang', times: 0 },
      { kind: 'slow_boot' },
      { kind: 'slow_disk', bytesPerSec: 0 },
      { kind: 'drop_connection', afterBytes: -1 },
      null,
    ];
    for (const f of bad)
      expect(() => node.injectFault(f as never), JSON.stringify(f)).toThrow(/invalid fault/);
    expect(node.status().faults).toEqual([]);
  });
});
