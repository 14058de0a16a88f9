import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Site, startSite } from './helpers/virtual-site.js';

/**
 * `kaploy run` on a virtual site: the real engine and nodes, a fault that makes one node KO once,
 * the experiment a real program reading $KAPLOY_NODES_FILE.
 */
let site: Site;
// Short waits so that a node that does not come back fails in seconds (the tutorial's workflow).
const STEPS =
  'SetDeploymentEnv|SetDeploymentEnvUntrusted:0:6&BroadcastEnv|BroadcastEnvKascade:0:60&BootNewEnv|BootNewEnvClassical:0:20';
const env = ['-e', 'tiny-x64-base', '-u', 'deploy', '--force-steps', STEPS, '--no-key'];
const fault = (node: string, ...args: string[]) =>
  site.run('kaploy', ['testbed', 'fault', '--dir', site.dir, node, ...args]);
// The experiment: copies the nodes file it is given and prints how many nodes it got.
const experiment = (out: string) => [
  '--',
  '/bin/sh',
  '-c',
  `cp "$KAPLOY_NODES_FILE" ${out} && echo "experiment on $KAPLOY_NODES_COUNT nodes"`,
];

beforeAll(async () => {
  site = await startSite({ nodes: 3, site: 'e2ekaploy' });
}, 120_000);
afterAll(async () => {
  await site?.down();
});

describe('kaploy run', () => {
  it('redeploys only the KO node, then runs the experiment on every node', async () => {
    const [n1, n2, n3] = site.nodes as [string, string, string];
    // n2 stays dark at its first reboot only: the first deployment fails it, the retry succeeds.
    expect((await fault(n2, 'no_reboot', '--when', 'reboot', '--times', '1')).code).toBe(0);
    const out = path.join(site.dir, 'exp1');
    const r = await site.run('kaploy', [
      'run',
      ...env,
      '-f',
      path.join(site.dir, 'nodes'),
      '--nodes-file',
      path.join(site.dir, 'deployed1'),
      ...experiment(out),
    ]);
    await fault(n2, 'clear');
    expect(r.stderr).toContain('kaploy run: deployment 1/3 of 3 node(s)\n');
    expect(r.stderr).toContain(
      'kaploy run: deployment 2/3 of 1 node(s) (the KO nodes of the previous one)\n',
    );
    expect(r.stderr).not.toContain('deployment 3/3');
    expect(r.stdout).toContain('experiment on 3 nodes\n');
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`${n1}\n${n2}\n${n3}\n`);
    expect(readFileSync(path.join(site.dir, 'deployed1'), 'utf8')).toBe(`${n1}\n${n2}\n${n3}\n`);
  });

  it('skips the nodes that already run the environment', async () => {
    const [n1, n2] = site.nodes as [string, string];
    const out = path.join(site.dir, 'exp2');
    const r = await site.run('kaploy', ['run', ...env, '-m', n1, '-m', n2, ...experiment(out)]);
    expect(r.stderr).toMatch(/2 of 2 node\(s\) already run tiny-x64-base:\d+ of deploy: not deployed again/);
    expect(r.stderr).not.toContain('deployment 1/');
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`${n1}\n${n2}\n`);
    // --no-skip-deployed deploys them again.
    const again = await site.run('kaploy', [
      'run',
      ...env,
      '--no-skip-deployed',
      '-m',
      n1,
      ...experiment(path.join(site.dir, 'exp3')),
    ]);
    expect(again.stderr).toContain('kaploy run: deployment 1/3 of 1 node(s)\n');
    expect(again.code).toBe(0);
  });

  it('does not run the experiment when too few nodes are deployed (exit 7)', async () => {
    const [n1, n2] = site.nodes as [string, string];
    expect((await fault(n2, 'no_reboot', '--when', 'reboot')).code).toBe(0);
    const out = path.join(site.dir, 'exp4');
    const r = await site.run('kaploy', [
      'run',
      ...env,
      '--no-skip-deployed',
      '--retries',
      '1',
      '--min-nodes',
      '2',
      '-m',
      n1,
      '-m',
      n2,
      ...experiment(out),
    ]);
    await fault(n2, 'clear');
    expect(r.stderr).toContain('kaploy run: deployment 2/2 of 1 node(s)');
    expect(r.stderr).toContain('1 of 2 node(s) deployed after 2 deployment(s), 2 required: /bin/sh not run');
    expect(r.code).toBe(7);
    expect(existsSync(out)).toBe(false);
    // With --min-ratio 0.5 the one deployed node is enough (n1 is skipped: it runs the environment).
    const half = await site.run('kaploy', [
      'run',
      ...env,
      '--min-ratio',
      '0.5',
      '--retries',
      '0',
      '-m',
      n1,
      '-m',
      n2,
      ...experiment(out),
    ]);
    expect(half.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`${n1}\n${n2}\n`);
  });

  it('exits 8 when the experiment fails, with its code on stderr', async () => {
    const n1 = site.nodes[0] as string;
    const r = await site.run('kaploy', ['run', ...env, '-m', n1, '--', '/bin/sh', '-c', 'exit 42']);
    expect(r.stderr).toContain('kaploy run: /bin/sh exited with 42\n');
    expect(r.code).toBe(8);
  });

  it('refuses bad command lines before deploying anything (exit 3)', async () => {
    const n1 = site.nodes[0] as string;
    const cases: [string[], RegExp][] = [
      [['-e', 'tiny-x64-base', '-m', n1], /missing required argument 'command'/],
      [['-e', 'tiny-x64-base', '-m', n1, '--', 'no-such-program-x'], /no-such-program-x: command not found/],
      [['-e', 'tiny-x64-base', '-m', n1, '--', './not-here.sh'], /not an executable file/],
      [['-e', 'tiny-x64-base', '-m', n1, '--min-ratio', '1.5', '--', 'true'], /expected a ratio/],
      [['-e', 'tiny-x64-base', '-m', n1, '--min-nodes', '2', '--', 'true'], /more than the 1 node/],
      [['-e', 'tiny-x64-base', '-m', n1, '--min-nodes', '1', '--min-ratio', '1', '--', 'true'], /not both/],
      [['-e', 'tiny-x64-base', '-m', n1, '--retries', '11', '--', 'true'], /--retries/],
      [['-a', 'env.yaml', '-m', n1, '--', 'true'], /--no-skip-deployed/],
      [['-m', n1, '--', 'true'], /exactly one of -e/],
      [['-e', 'tiny-x64-base', '--', 'true'], /no node given/],
    ];
    for (const [args, msg] of cases) {
      const r = await site.run('kaploy', ['run', ...args], { env: { OAR_NODEFILE: '' } });
      expect({ args, code: r.code }).toEqual({ args, code: 3 });
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toContain('deployment 1/');
    }
  });
});
