import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCommands, partitionScript } from '../../../src/formats/node-commands.js';
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

describe('hardware commands with bad input fail clearly, with a non-zero status', () => {
  let site: Site;
  let node: VirtualNode;
  let c: Client;
  beforeAll(async () => {
    site = makeSite();
    const o = nodeOptions(site, 'node-1.bad');
    writeFileSync(
      join(site.bootDir, 'default'),
      renderProfile({ kind: 'deploy_env', kernel: DEPLOY_KERNEL, initrd: 'i', params: '' }),
    );
    node = new VirtualNode(o);
    await node.start();
    await waitState(node, 'deploy_env');
    c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
  });
  afterAll(async () => {
    c.end();
    await node.stop();
    site.cleanup();
  });

  const fails = async (cmd: string, code: number, re: RegExp, stdin?: string) => {
    const r = await exec(c, cmd, stdin);
    expect(r.code, cmd).toBe(code);
    expect(r.stderr, cmd).toMatch(re);
  };

  it('unknown devices and partitions', async () => {
    await fails(nodeCommands.format('/dev/sdb1', 'ext4'), 1, /\/dev\/sdb1: No such file or directory/);
    await fails(nodeCommands.format('/dev/sda9', 'ext4'), 1, /\/dev\/sda9: No such file or directory/);
    await fails(nodeCommands.format('/dev/sda', 'ext4'), 1, /not a partition/);
    await fails(nodeCommands.formatSwap('/dev/sda03'), 1, /No such file/);
    await fails(nodeCommands.format('/dev/sda3', 'zfs'), 1, /mkfs\.zfs: No such file/);
    await fails(nodeCommands.format('/dev/sda4', 'ext4'), 1, /extended partition/);
    await fails(
      nodeCommands.createPartitionTable('/dev/sdb'),
      1,
      /cannot open \/dev\/sdb/,
      partitionScript({ swap: 1, prod: 2, deploy: 3, tmp: 5 }),
    );
    await fails(nodeCommands.installBootloader('/mnt/dest', '/dev/sdz'), 1, /cannot open \/dev\/sdz/);
  });

  it('mounting what cannot be mounted', async () => {
    await fails(nodeCommands.mount('/dev/sda3', '/mnt/dest'), 32, /wrong fs type.*not formatted/);
    await fails(nodeCommands.mount('/dev/sda1', '/mnt/dest'), 32, /wrong fs type.*swap/);
    await fails(nodeCommands.mount('/dev/sda7', '/mnt/dest'), 32, /special device does not exist/);
    await fails(nodeCommands.mount('/dev/sda5', '/mnt/nowhere'), 32, /mount point does not exist/);
    await fails(nodeCommands.mount('/dev/sda5', 'mnt/dest'), 32, /must be absolute/);
    await fails(nodeCommands.mount('/dev/sda5', '/usr/lib'), 32, /mount point does not exist/);
    await fails(nodeCommands.umount('/mnt/dest'), 32, /not mounted/);
    await fails(nodeCommands.installBootloader('/tmp', '/dev/sda'), 1, /not a directory on a partition/);
  });

  it('a mounted partition can be neither formatted nor re-partitioned, and is busy', async () => {
    expect((await exec(c, nodeCommands.mount('/dev/sda5', '/mnt/dest'))).code).toBe(0);
    await fails(nodeCommands.format('/dev/sda5', 'ext4'), 1, /is mounted/);
    await fails(nodeCommands.mount('/dev/sda5', '/tmp'), 32, /already mounted/);
    await fails(nodeCommands.createPartitionTable('/dev/sda'), 1, /in use/, 'label: dos\n1 : size=1G\n');
    expect((await exec(c, nodeCommands.umount('/mnt/dest'))).code).toBe(0);
  });

  it('malformed sfdisk scripts leave the table unchanged', async () => {
    await fails(
      nodeCommands.createPartitionTable('/dev/sda'),
      1,
      /line 2: bad size 'huge'/,
      'label: dos\n1 : size=huge\n',
    );
    await fails(
      nodeCommands.createPartitionTable('/dev/sda'),
      1,
      /needs an extended partition/,
      '1 : size=1G\n5 : size=1G\n',
    );
    await fails(nodeCommands.createPartitionTable('/dev/sda'), 1, /defines no partition/, '');
    expect((await exec(c, nodeCommands.format('/dev/sda5', 'ext4'))).code).toBe(0);
  });

  it('unsupported forms and kexec without a kernel', async () => {
    await fails('mount -o loop /x /y', 2, /not supported by the virtual node/);
    await fails('reboot -f now', 2, /not supported/);
    await fails(nodeCommands.kexecExec(), 1, /Nothing has been loaded/);
    await fails(nodeCommands.kexecLoad('/nonexistent', undefined, ''), 1, /Cannot open/);
    await fails('no-such-program-here', 127, /not found/);
    expect(node.status().state).toBe('deploy_env');
  });
});
