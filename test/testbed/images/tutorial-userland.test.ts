import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLdd } from '../../../src/testbed/images/host-binaries.js';
import { writeRootfs } from '../../../src/testbed/images/rootfs-tree.js';

const run = promisify(execFile);

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function sh(argv: string[], input?: string): Promise<Out> {
  try {
    const p = run(argv[0] as string, argv.slice(1), { encoding: 'latin1', maxBuffer: 64 << 20 });
    if (input !== undefined) p.child.stdin?.end(Buffer.from(input, 'latin1'));
    const { stdout, stderr } = await p;
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

describe('the reference environments carry the userland the deployment tutorial types', () => {
  let dir: string;
  let root: string;
  let nsRoot: string;
  // The booted system as a virtual node runs it: the tree as /, no capabilities.
  const booted = (cmd: string) =>
    sh([
      'bwrap',
      '--bind',
      root,
      '/',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--cap-drop',
      'ALL',
      '/bin/sh',
      '-c',
      cmd,
    ]);
  // The same tree in a user namespace over a slice of root's subordinate ids (setup.sh writes them).
  const namespaced = (cmd: string) =>
    sh([
      'unshare',
      '--user',
      '--map-users=1000000000,0,65536',
      '--map-groups=1000000000,0,65536',
      '--setuid=0',
      '--setgid=0',
      `--root=${nsRoot}`,
      '/bin/sh',
      '-c',
      cmd,
    ]);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-userland-'));
    root = path.join(dir, 'root');
    nsRoot = path.join(dir, 'ns-root');
    const spec = { name: 'tiny-x64-base', version: '1.0', prettyName: 't', hostname: 'tiny' };
    await writeRootfs(root, spec);
    await writeRootfs(nsRoot, spec);
    // As a node's partition is once deployed in its namespace: owned by the slice's root.
    await sh(['chown', '-hR', '1000000000:1000000000', nsRoot]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses ldd output: libraries and the loader, not the vDSO', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f6b)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f6c)',
      '\tlibmissing.so.1 => not found',
    ].join('\n');
    expect(parseLdd(out)).toEqual(['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  });

  it("captures the system with GNU tar's --posix --numeric-owner --one-file-system, gzipped", async () => {
    const r = await booted('cd / && tar --posix --numeric-owner --one-file-system -zcf - etc bin/sh');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const list = await sh(['tar', '-tzf', '-'], r.stdout);
    expect(list.stdout.split('\n')).toEqual(
      expect.arrayContaining(['etc/passwd', 'etc/udev/rules.d/70-persistent-net.rules']),
    );
    expect((await booted('tar --version')).stdout).toMatch(/GNU tar/);
  });

  it('tgz-g5k writes the system on stdout, without the persistent-net rules or /proc', async () => {
    const r = await booted('tgz-g5k');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const names = (await sh(['tar', '-tzf', '-'], r.stdout)).stdout.split('\n');
    expect(names).toEqual(expect.arrayContaining(['./etc/passwd', './usr/sbin/tgz-g5k', './proc/']));
    expect(names.some((n) => n.includes('persistent-net'))).toBe(false);
    expect(names.some((n) => n.startsWith('./proc/') && n !== './proc/')).toBe(false);
  });

  it('tgz-g5k refuses a terminal, a malformed destination and extra arguments', async () => {
    for (const bad of ["'a b@h:x'", "'-oProxyCommand=x@h:p'", "'u@h:'", 'u@h', "'u@h:p' extra"]) {
      const r = await booted(`tgz-g5k ${bad} </dev/null >/dev/null`);
      expect(r.code, bad).toBe(1);
      expect(r.stderr, bad).toMatch(/^tgz-g5k: /);
    }
  });

  it('tgz-g5k login@host:path says plainly that this system has no ssh client', async () => {
    const r = await booted("tgz-g5k 'alice@frontend:img.tgz' </dev/null");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no ssh client on this system/);
  });

  it('the tutorial rm of the persistent-net rules works', async () => {
    expect((await booted('rm /etc/udev/rules.d/*-persistent-net.rules && ls /etc/udev/rules.d')).code).toBe(
      0,
    );
  });

  it('addgroup --gid and adduser --uid --ingroup create the account; su - and chown use it', async () => {
    const r = await namespaced(
      'addgroup --gid 1234 team && adduser --uid 1235 --ingroup team alice && ' +
        'mkdir -p /home/alice/.ssh && touch /home/alice/.ssh/authorized_keys && ' +
        'chown alice:team /home/alice/.ssh/authorized_keys && su - alice -c "id -u; id -g; pwd"',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1235\n1234\n\/home\/alice\n$/);
    expect(readFileSync(path.join(nsRoot, 'etc/passwd'), 'utf8')).toMatch(
      /^alice:x:1235:1234::\/home\/alice:\/bin\/sh$/m,
    );
    expect(readFileSync(path.join(nsRoot, 'etc/group'), 'utf8')).toMatch(/^team:x:1234:$/m);
    // On the host the files belong to the slice's ids, never to a host account's.
    const st = statSync(path.join(nsRoot, 'home/alice/.ssh/authorized_keys'));
    expect([st.uid, st.gid]).toEqual([1000001235, 1000001234]);
  });

  it('addgroup and adduser refuse bad names, ids, options and duplicates without touching a file', async () => {
    const before = ['passwd', 'group', 'shadow'].map((f) =>
      readFileSync(path.join(nsRoot, 'etc', f), 'utf8'),
    );
    for (const bad of [
      'addgroup --gid 12x g1',
      'addgroup --gid 65534 g1',
      'addgroup --gid 77 "Bad;name"',
      'addgroup --gid 0 g1',
      'addgroup --system g1',
      'addgroup g1',
      'adduser --uid 0 --ingroup root u1',
      'adduser --uid 77 --ingroup nosuch u1',
      'adduser --uid 77 --ingroup root "u1:0:0"',
      'adduser --uid 77 --ingroup root root',
      'adduser --uid 99999 --ingroup root u1',
      'adduser --uid 77 u1',
      'adduser --uid',
    ]) {
      const r = await namespaced(bad);
      expect(r.code, bad).toBe(1);
      expect(r.stderr, bad).toMatch(/^\/usr\/sbin\/add(user|group): /);
    }
    const after = ['passwd', 'group', 'shadow'].map((f) => readFileSync(path.join(nsRoot, 'etc', f), 'utf8'));
    expect(after).toEqual(before);
  });
});
