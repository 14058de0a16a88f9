import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, exec, makeSite, nodeOptions, type Site, VirtualNode, waitState } from './fixtures.js';

describe("a booted node's mount table: listing and bind mounts (the tutorial's manual capture)", () => {
  let site: Site;
  let node: VirtualNode;
  let o: ReturnType<typeof nodeOptions>;
  const run = async (cmd: string) => {
    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    try {
      return await exec(c, cmd);
    } finally {
      c.end();
    }
  };
  beforeAll(async () => {
    site = makeSite();
    o = nodeOptions(site, 'node-1.bind');
    node = new VirtualNode(o);
    await node.start();
    await waitState(node, 'production');
  });
  afterAll(async () => {
    await node.stop();
    site.cleanup();
  });

  it('mount shows the booted partition on / (the probe execo and EnOSlib use)', async () => {
    const r = await run('mount');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('/dev/sda2 on / type ext4 (rw,relatime)');
  });

  it('mount -o bind / DIR shows the root file system at DIR until umount', async () => {
    expect((await run('mkdir -p /tmp/cap')).code).toBe(0);
    const m = await run('mount -o bind / /tmp/cap');
    expect(m.stderr).toBe('');
    expect(m.code).toBe(0);
    expect((await run('mount')).stdout).toContain('/dev/sda2 on /tmp/cap type ext4 (rw,relatime)\n');
    const t = await run('cd /tmp/cap && cat etc/hostname && ls tmp');
    expect(t.code).toBe(0);
    // The same files as / (its hostname, and /tmp holding the mount point itself).
    expect(t.stdout).toBe(`${(await run('cat /etc/hostname')).stdout}cap\n`);
    expect((await run('mount -o bind / /tmp/cap')).stderr).toMatch(/mount point busy/);
    expect((await run('umount /tmp/cap')).code).toBe(0);
    expect((await run('mount')).stdout).not.toContain('/tmp/cap');
  });

  it('refuses a bind source or target that is missing, not a directory, outside the partitions, or with ..', async () => {
    for (const [cmd, msg] of [
      ['mount -o bind /nonexistent /tmp', /nonexistent/],
      ['mount -o bind /etc/hostname /tmp', /not a directory/],
      ['mount -o bind / /etc/hostname', /not a directory/],
      ['mount -o bind /tmp/../etc /tmp', /\.\./],
      ['mount -o bind / /no/such/dir', /no\/such|does not exist/],
      ['mount -o remount,bind / /tmp', /not supported by the virtual node/],
    ] as const) {
      const r = await run(cmd);
      expect(r.code, cmd).not.toBe(0);
      expect(r.stderr, cmd).toMatch(msg);
    }
    expect((await run('mount')).stdout.split('\n').filter(Boolean)).toHaveLength(2);
  });
});
