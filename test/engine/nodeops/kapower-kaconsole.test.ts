import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Site, startSite } from '../../e2e/helpers/virtual-site.js';
import { openConsole, statsOf, widOf } from './helpers/nodeops-site.js';

/** kapower3 and kaconsole3 on a virtual site: the BMC-like power API and the nodes' serial consoles. */
let site: Site;
let n1: string;
let n2: string;

beforeAll(async () => {
  site = await startSite({ nodes: 2, site: 'nodeopspc' });
  [n1, n2] = site.nodes as [string, string];
}, 120_000);
afterAll(async () => {
  await site?.down();
}, 60_000);

const powerStatus = async (...nodes: string[]) => {
  const r = await site.run('kapower3', ['--status', ...nodes.flatMap((n) => ['-m', n]), '-V', '0']);
  expect(r.code).toBe(0);
  return r.stdout.split('\n').filter((l) => /^node-\d/.test(l));
};

describe('kapower3', () => {
  it('--off, --status, --on: the node really loses and regains power; stats rows and node states', async () => {
    expect(await powerStatus(n1, n2)).toEqual([`${n1}: on`, `${n2}: on`]);
    const off = await site.run('kapower3', ['--off', '-m', n1]);
    expect(off.stderr).toBe('');
    expect(off.code).toBe(0);
    expect(off.stdout).toContain(`   * Performing a soft power off on ${n1}\n`);
    expect(off.stdout).toContain(`The power operation is successful on nodes\n${n1}\n`);
    expect(await powerStatus(n1, n2)).toEqual([`${n1}: off`, `${n2}: on`]);
    const tb = await site.run('kaploy', ['testbed', 'status', '--dir', site.dir]);
    expect(tb.stdout).toMatch(new RegExp(`${n1.replace(/\./g, '\\.')}\\s+off`));
    const kn = await site.run('kanodes3', ['-m', n1]);
    expect(kn.stdout.split('\n')[1]?.split(/\s+/).slice(0, 2)).toEqual([n1, 'powered']);
    const on = await site.run('kapower3', ['--on', '-m', n1, '-l', 'hard']);
    expect(on.code).toBe(0);
    expect(on.stdout).toContain(`   * Performing a hard power on on ${n1}\n`);
    expect(await powerStatus(n1)).toEqual([`${n1}: on`]);
    const row = await statsOf(site, widOf(on.stdout), n1);
    expect([row.operation, row.step1, row.step2, row.success]).toEqual(['power', 'On', '', 'true']);
    expect((await statsOf(site, widOf(off.stdout), n1)).step1).toBe('Off');
  });

  it('bad input: no action, two actions, unknown level, unknown node, no rights; nothing touched', async () => {
    const before = (await site.run('kanodes3', [])).stdout;
    const cases: [string[], string | undefined, number, RegExp][] = [
      [['-m', n1], undefined, 3, /give exactly one of --on, --off, --status/],
      [['--on', '--off', '-m', n1], undefined, 3, /give exactly one of --on, --off, --status/],
      [['--off', '-l', 'brutal', '-m', n1], undefined, 3, /unknown level 'brutal'/],
      [
        ['--off', '-m', 'node-9.nodeopspc'],
        undefined,
        3,
        /unknown node\(s\) on site nodeopspc: node-9\.nodeopspc/,
      ],
      [['--off', '-m', n1], 'bob', 4, /You do not have the right to power the node\(s\) node-1\.nodeopspc/],
    ];
    for (const [args, user, code, msg] of cases) {
      const r = await site.run('kapower3', args, user ? { user } : {});
      expect([args, r.code, r.stdout]).toEqual([args, code, '']);
      expect(r.stderr).toMatch(msg);
    }
    expect((await site.run('kanodes3', [])).stdout).toBe(before);
    expect(await powerStatus(n1, n2)).toEqual([`${n1}: on`, `${n2}: on`]);
  });
});

describe('kaconsole3', () => {
  it('a session: login prompt, a shell, boot messages of a reboot, kanodes3 -c, then ~. leaves', async () => {
    const c = openConsole(site, n2);
    await c.waitFor(new RegExp(`${n2.replace(/\./g, '\\.')} login: $`), 'the login prompt');
    expect(c.stderr()).toContain('type ~. at the start of a line to leave the console');
    const ops = await site.run('kanodes3', ['-c']);
    expect(ops.stdout).toMatch(
      new RegExp(`^C-[0-9a-f-]{36} {2}console {2}root {2}1 node\\(s\\)\\n {2}${n2}\\n$`),
    );
    c.type('root\n');
    c.type('echo hello-$((6*7))\n');
    await c.waitFor(/hello-42/, 'the shell output');
    // The console shows the node's reboot (SSH is down meanwhile) and the next login prompt.
    const mark = c.output().length;
    const r = await site.run('kareboot3', ['-m', n2, '-l', 'hard']);
    expect(r.code).toBe(0);
    await c.waitFor(/\[power\] reset[\s\S]*login: $/, 'the reset and a new login prompt');
    expect(c.output().slice(mark)).toContain('[power] reset');
    c.type('~.');
    expect(await c.exit).toBe(0);
    expect(c.output()).toMatch(/\[kaploy console: closed: closed by root\]\r\n$/);
    expect((await site.run('kanodes3', ['-c'])).stdout).toBe('No running operation\n');
  });

  it('is closed when the rights on the node are revoked', async () => {
    const admin = { user: 'kaadmin' };
    expect((await site.run('karights3', ['-a', '-u', 'alice', '-m', n1, '-p', '*'], admin)).code).toBe(0);
    const c = openConsole(site, n1, 'alice');
    await c.waitFor(/login: $/, 'the login prompt');
    expect((await site.run('karights3', ['-d', '-u', 'alice', '-m', n1, '-p', '*'], admin)).code).toBe(0);
    expect(await c.exit).toBe(1);
    expect(c.output()).toMatch(/\[kaploy console: closed: rights revoked\]\r\n$/);
    expect(c.stderr()).toContain(`[kaconsole3: connection to ${n1} closed]`);
    // Without rights now, a new console is refused.
    const again = await site.run('kaconsole3', ['-m', n1], { user: 'alice' });
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(
      /You do not have the right to open a console on the node\(s\) node-1\.nodeopspc/,
    );
  });

  it('bad input: two nodes, an unknown node, no node', async () => {
    const two = await site.run('kaconsole3', ['-m', n1, '-m', n2]);
    expect(two.code).toBe(3);
    expect(two.stderr).toMatch(/a console is opened on one node at a time \(got 2/);
    const unknown = await site.run('kaconsole3', ['-m', 'node-7.nodeopspc']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/unknown node\(s\) on site nodeopspc: node-7\.nodeopspc/);
    const none = await site.run('kaconsole3', []);
    expect(none.code).toBe(3);
    expect((await site.run('kanodes3', ['-c'])).stdout).toBe('No running operation\n');
  });
});
