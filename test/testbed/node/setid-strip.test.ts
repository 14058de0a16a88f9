import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeCommands, partitionScript } from '../../../src/formats/node-commands.js';
import {
  connect,
  exec,
  makeSite,
  nodeOptions,
  type Site,
  startInDeployEnv,
  type VirtualNode,
} from './fixtures.js';

const SETID = 0o6000;

/** Every regular file under `dir` with a setuid or setgid bit (paths relative to dir). */
function setIdFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, `${rel}${name}/`);
      else if (st.isFile() && st.mode & SETID) found.push(`${rel}${name}`);
    }
  };
  walk(dir, '');
  return found.sort();
}

/** A tar.gz holding a setuid, a setgid and a setuid+setgid file, a hard link to the first, and a file of another owner. */
function hostileArchive(dir: string, name: string): string {
  const root = join(dir, `${name}-root`);
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'shared'), { recursive: true });
  chmodSync(join(root, 'shared'), 0o2775); // a setgid directory: kept
  writeFileSync(join(root, 'usr/bin/rootshell'), '#!/bin/sh\nexec /bin/sh\n');
  chmodSync(join(root, 'usr/bin/rootshell'), 0o4755);
  writeFileSync(join(root, 'usr/bin/wall'), 'w');
  chmodSync(join(root, 'usr/bin/wall'), 0o2755);
  writeFileSync(join(root, 'usr/bin/both'), 'b');
  chmodSync(join(root, 'usr/bin/both'), 0o6711);
  linkSync(join(root, 'usr/bin/rootshell'), join(root, 'usr/bin/alias'));
  writeFileSync(join(root, 'plain'), 'p');
  chmodSync(join(root, 'plain'), 0o640);
  const tarball = join(dir, `${name}.tar.gz`);
  execFileSync('tar', ['-C', root, '--numeric-owner', '-czf', tarball, '.']);
  return tarball;
}

describe('setuid and setgid bits never stay on the host disk (issue 14, item 9)', () => {
  let site: Site;
  let node: VirtualNode;
  let o: ReturnType<typeof nodeOptions>;
  beforeEach(async () => {
    site = makeSite();
    ({ node, o } = await startInDeployEnv(site, 'node-1.setid'));
  });
  afterEach(async () => {
    await node.stop();
    site.cleanup();
  });

  it('an image archive extracted on the deploy partition lands without them, hard links included; other bits are kept', async () => {
    const archive = hostileArchive(site.dir, 'hostile');
    // The archive really carries the bits (the test would prove nothing otherwise).
    const listing = execFileSync('tar', ['-tvzf', archive], { encoding: 'utf8' });
    expect(listing).toMatch(/-rwsr-xr-x .*usr\/bin\/(rootshell|alias)/);
    expect(listing).toMatch(/-rwxr-sr-x .*usr\/bin\/wall/);

    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    const ok = async (cmd: string, stdin?: Buffer | string) => {
      const r = await exec(c, cmd, stdin);
      expect(r, cmd).toMatchObject({ code: 0 });
      return r;
    };
    await ok(
      nodeCommands.createPartitionTable('/dev/sda'),
      partitionScript({ swap: 1, prod: 2, deploy: 3, tmp: 5 }),
    );
    await ok(nodeCommands.format('/dev/sda3', 'ext4'));
    await ok(nodeCommands.mount('/dev/sda3', '/mnt/dest'));
    await ok(nodeCommands.extractTar('gzip', '/mnt/dest'), execFileSync('cat', [archive]));

    const sda3 = join(o.dir, 'disk/sda3');
    const mode = (p: string) => lstatSync(join(sda3, p)).mode & 0o7777;
    expect(setIdFiles(o.dir)).toEqual([]);
    expect(mode('usr/bin/rootshell')).toBe(0o755);
    expect(mode('usr/bin/alias')).toBe(0o755);
    expect(lstatSync(join(sda3, 'usr/bin/alias')).ino).toBe(lstatSync(join(sda3, 'usr/bin/rootshell')).ino);
    expect(mode('usr/bin/wall')).toBe(0o755);
    expect(mode('usr/bin/both')).toBe(0o711);
    expect(mode('plain')).toBe(0o640);
    expect(mode('shared')).toBe(0o2775);

    // A command setting them itself (a postinstall, a user's shell) is swept before it answers.
    await ok(
      'chmod 4755 /mnt/dest/plain && ln /mnt/dest/plain /mnt/dest/plain2 && chmod g+s /mnt/dest/usr/bin/wall',
    );
    expect(setIdFiles(o.dir)).toEqual([]);
    expect(mode('plain')).toBe(0o755);

    // A postinstall archive is extracted in the deployment environment's /tmp: swept as well.
    await ok(
      nodeCommands.runPostinstall('gzip', '/tmp/post', 'chmod u+s usr/bin/both', {}),
      execFileSync('cat', [archive]),
    );
    expect(setIdFiles(o.dir)).toEqual([]);
    expect(lstatSync(join(o.dir, 'deployenv/tmp/post/usr/bin/rootshell')).mode & 0o7777).toBe(0o755);

    // A host setuid program cannot be hard-linked in to be modified through the node's directory.
    const link = await exec(c, 'ln /usr/bin/su /mnt/dest/su');
    expect(link.code).not.toBe(0);
    c.end();
  });

  it('a production image carrying them is installed without them', async () => {
    const other = new (node.constructor as typeof VirtualNode)(
      nodeOptions(site, 'node-2.setid', { productionImage: hostileArchive(site.dir, 'prod-hostile') }),
    );
    try {
      await other.start();
      const sda2 = join(site.dir, 'nodes/node-2.setid/disk/sda2');
      expect(lstatSync(join(sda2, 'usr/bin/rootshell')).mode & 0o7777).toBe(0o755);
      expect(setIdFiles(join(site.dir, 'nodes/node-2.setid'))).toEqual([]);
    } finally {
      await other.stop();
    }
  });

  it('files of another owner do not land as such: the capability-less sandbox cannot chown, tar says so', async () => {
    const root = join(site.dir, 'owned-root');
    mkdirSync(root);
    writeFileSync(join(root, 'theirs'), 't');
    chmodSync(join(root, 'theirs'), 0o4755);
    chownSync(join(root, 'theirs'), 1234, 1234);
    const archive = join(site.dir, 'owned.tar.gz');
    execFileSync('tar', ['-C', root, '--numeric-owner', '-czf', archive, '.']);
    expect(execFileSync('tar', ['-tvzf', archive], { encoding: 'utf8' })).toMatch(/1234\/1234 .*theirs/);

    const c = await connect(o.address, o.sshPort, site.keys.enginePrivate, site.keys.hostPublic);
    expect((await exec(c, 'mkdir -p /mnt/x')).code).toBe(0);
    const r = await exec(c, nodeCommands.extractTar('gzip', '/mnt/x'), execFileSync('cat', [archive]));
    c.end();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Cannot change ownership to uid 1234/);
    const st = lstatSync(join(o.dir, 'deployenv/mnt/x/theirs'));
    expect([st.uid, st.gid]).toEqual([0, 0]);
    expect(st.mode & SETID).toBe(0);
  });
});
