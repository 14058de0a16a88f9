import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Site, startSite } from './helpers/virtual-site.js';

/**
 * `--force` by a second user on a virtual site (issue 14, item 9): alice's deployment hangs in its
 * broadcast, bob takes her node with --force; alice's node ends cancelled with who took it, in her
 * summary and ko file, instead of "SSH connection lost"; bob's deployment succeeds.
 */
let site: Site;

beforeAll(async () => {
  site = await startSite({ nodes: 1, site: 'e2epreempt' });
  for (const user of ['alice', 'bob']) {
    const r = await site.run('karights3', ['-a', '-u', user, '-m', '*', '-p', '*'], { user: 'kaadmin' });
    if (r.code !== 0) throw new Error(`karights3 for ${user}: ${r.stderr}`);
  }
}, 120_000);
afterAll(async () => {
  await site?.down();
});

describe('--force pre-emption on a virtual site', () => {
  it("names bob's deployment in alice's outcome for the node he took", async () => {
    const [n1] = site.nodes as [string];
    // The image's extraction hangs once: alice's broadcast is where bob finds her.
    const f = await site.run('kaploy', [
      'testbed',
      'fault',
      '--dir',
      site.dir,
      n1,
      'hang',
      '--when',
      'tar ',
      '--times',
      '1',
    ]);
    expect(f.code, f.stderr).toBe(0);
    const ko = path.join(site.dir, 'alice-ko');
    const alice = site.run('kadeploy3', ['-e', 'tiny-x64-base', '-u', 'deploy', '-m', n1, '-n', ko], {
      user: 'alice',
    });
    // Wait until the hang fired (bounded: only stops a hung test).
    const end = Date.now() + 120_000;
    for (;;) {
      const s = await site.run('kaploy', ['testbed', 'status', '--dir', site.dir, '--json']);
      if (!s.stdout.includes('"hang"')) break;
      if (Date.now() > end) throw new Error(`the hang never fired: ${s.stdout}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    const bob = await site.run('kadeploy3', ['-e', 'tiny-x64-base', '-u', 'deploy', '-m', n1, '--force'], {
      user: 'bob',
    });
    expect(bob.code, bob.stdout + bob.stderr).toBe(0);
    const a = await alice;
    expect(a.code, a.stdout + a.stderr).toBe(2);
    expect(a.stdout).toMatch(
      new RegExp(
        `The deployment failed on nodes\\n${n1.replace(/\./g, '\\.')} \\(\\S+: taken by bob's deployment D-[0-9a-f-]+ \\(--force\\)\\)`,
      ),
    );
    expect(a.stdout).not.toContain('SSH connection lost');
    expect(readFileSync(ko, 'utf8').trim()).toBe(n1);
    const nodes = await site.run('kanodes3', ['-s', '-m', n1], { user: 'bob' });
    expect(nodes.stdout).toContain('deployed');
  }, 300_000);
});
