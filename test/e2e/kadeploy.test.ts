import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Site, startSite } from './helpers/virtual-site.js';

/**
 * kadeploy3 end to end on a virtual site: the real engine, real SSH to virtual nodes whose
 * sandboxes receive the image, the real commands as the tutorial types them.
 */
let site: Site;
const userKey = () => path.join(site.dir, 'keys', 'user.pub');
const since = () => {
  const d = new Date(Date.now() - 12 * 3600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}:${p(d.getMonth() + 1)}:${p(d.getDate())}:${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};

beforeAll(async () => {
  site = await startSite({ nodes: 4, site: 'e2edeploy' });
}, 120_000);
afterAll(async () => {
  await site?.down();
});

describe('kadeploy3 on a virtual site', () => {
  it('deploys the tutorial environment with -k on every node of the node file', async () => {
    const [n1, n2, n3] = site.nodes as [string, string, string];
    const ok = path.join(site.dir, 'ok1');
    const ko = path.join(site.dir, 'ko1');
    const r = await site.run('kadeploy3', [
      '-e',
      'tiny-x64-base',
      '-u',
      'deploy',
      '-m',
      n1,
      '-m',
      n2,
      '-m',
      n3,
      '-k',
      userKey(),
      '-o',
      ok,
      '-n',
      ko,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/The deployment is successful on nodes\n/);
    expect(readFileSync(ok, 'utf8').trim().split('\n').sort()).toEqual([n1, n2, n3].sort());
    expect(readFileSync(ko, 'utf8')).toBe('');
    const key = readFileSync(userKey(), 'utf8').trim();
    for (const n of [n1, n2, n3]) {
      // The image's files really are on the deploy partition, the key in root's authorized_keys,
      // the boot loader configured, and the node runs the deployed system.
      expect(readFileSync(site.disk(n, 3, 'etc/os-release'), 'utf8')).toMatch(/ID=tiny-x64-base/);
      expect(readFileSync(site.disk(n, 3, 'root/.ssh/authorized_keys'), 'utf8')).toContain(key);
      expect(readFileSync(site.disk(n, 3, 'boot/grub/grub.cfg'), 'utf8')).toMatch(
        /linux \/boot\/vmlinuz root=\/dev\/sda3/,
      );
    }
    const st = await site.run('kaploy', ['testbed', 'status', '--dir', site.dir]);
    for (const n of [n1, n2, n3])
      expect(st.stdout).toMatch(new RegExp(`${n.replace(/\./g, '\\.')}\\s+on\\s+installed`));
    // A user logs in with the key that was installed (OpenSSH client, the site's ssh_config).
    const ssh = await site.sh(`ssh -F ${site.dir}/ssh_config ${n1} cat /etc/os-release`);
    expect(ssh.stdout).toMatch(/ID=tiny-x64-base/);
    // kastat3, as the tutorial reads the last deployment's row.
    const stat = await site.sh(`kastat3 -x ${since()} -d | sed -n '$p'`);
    expect(stat.stdout.trim()).toMatch(
      /^\w+,node-\d\.e2edeploy,SetDeploymentEnvUntrusted,BroadcastEnvKastafior,BootNewEnvClassical,\d+,\d+,\d+,0,0,0,\d+,\d+,\d+,\d+,tiny-x64-base:1,false,[0-9a-f]{32},true,$/,
    );
  });

  it('prints Time in lines at verbosity 4 with -d, and honours the tutorial --force-steps', async () => {
    const n = site.nodes[3] as string;
    const steps =
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:450&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvClassical:1:400';
    const r = await site.run('kadeploy3', [
      '-e',
      'tiny-x64-base',
      '-m',
      n,
      '-k',
      userKey(),
      '--verbose-level',
      '4',
      '-d',
      '--force-steps',
      steps,
    ]);
    expect(r.code).toBe(0);
    const times = r.stdout.split('\n').filter((l) => l.includes('Time in'));
    expect(times.some((l) => /SetDeploymentEnvUntrusted-switch_pxe/.test(l))).toBe(true);
    expect(times.some((l) => /BroadcastEnvKastafior-send_environment/.test(l))).toBe(true);
    expect(times.some((l) => /BootNewEnvClassical-wait_reboot/.test(l))).toBe(true);
    const stat = await site.sh(`kastat3 -x ${since()} -d | sed -n '$p'`);
    expect(stat.stdout).toContain(
      ',SetDeploymentEnvUntrusted,BroadcastEnvKastafior,BootNewEnvClassical,450,1200,400,',
    );
  });

  it("-s runs once after the deployment: a missing script prints Fail ! once, the exit code is the nodes'", async () => {
    const n = site.nodes[3] as string;
    const missing = path.join(site.dir, 'no-such-script.sh');
    const r = await site.run('kadeploy3', ['-e', 'tiny-x64-base', '-m', n, '-s', missing]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^Fail !$/gm)).toHaveLength(1);
    // After the summary, as Kadeploy runs it.
    expect(r.stdout).toMatch(
      new RegExp(
        `The deployment is successful on nodes\\n${n.replace(/\./g, '\\.')}\\nRunning ${missing}\\nFail !\\n$`,
      ),
    );
  });

  it('runs the postinstall of the environment with the KADEPLOY_* variables', async () => {
    const n = site.nodes[0] as string;
    const r = await site.run('kadeploy3', ['-e', 'tiny-x64-base-post', '-m', n]);
    expect(r.code).toBe(0);
    const vars = readFileSync(site.disk(n, 3, 'root/kadeploy-postinstall.env'), 'utf8');
    expect(vars).toMatch(/^KADEPLOY_ENV=tiny-x64-base-post$/m);
    expect(vars).toMatch(/^KADEPLOY_CLUSTER=e2edeploy-c1$/m);
    expect(vars).toMatch(/^KADEPLOY_DEPLOY_PART=\/dev\/sda3$/m);
    expect(vars).toMatch(/^KADEPLOY_ENV_EXTRACTION_DIR=\/mnt\/dest$/m);
  });

  it('reports the KO node, its step and reason while the others succeed', async () => {
    const [n1, n2] = site.nodes as [string, string];
    const f = await site.run('kaploy', [
      'testbed',
      'fault',
      '--dir',
      site.dir,
      n2,
      'no_reboot',
      '--when',
      'reboot',
    ]);
    expect(f.code).toBe(0);
    const ko = path.join(site.dir, 'ko2');
    const r = await site.run('kadeploy3', [
      '-e',
      'tiny-x64-base',
      '-m',
      n1,
      '-m',
      n2,
      '-n',
      ko,
      '--force-steps',
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:0:5&BroadcastEnv|BroadcastEnvKascade:0:60&BootNewEnv|BootNewEnvClassical:0:20',
    ]);
    await site.run('kaploy', ['testbed', 'fault', '--dir', site.dir, n2, 'clear']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `The deployment failed on nodes\\n${n2.replace(/\./g, '\\.')} \\(SetDeploymentEnvUntrusted-wait_reboot: `,
      ),
    );
    expect(r.stdout).toMatch(/The deployment is successful on nodes\n/);
    expect(readFileSync(ko, 'utf8').trim()).toBe(n2);
  });

  it('stops at a breakpoint and resumes from it', async () => {
    const n = site.nodes[1] as string;
    const widFile = path.join(site.dir, 'wid');
    const r = await site.run('kadeploy3', [
      '-e',
      'tiny-x64-base-post',
      '-m',
      n,
      '--breakpoint',
      'BroadcastEnvKastafior:manage_user_post_install',
      '--write-workflow-id',
      widFile,
    ]);
    // Not 0: the deployment is not over (README, exit codes), and the log says where it stopped.
    expect(r.code).toBe(9);
    expect(r.stdout).toMatch(/The deployment stopped at its breakpoint on nodes\n/);
    expect(r.stdout).toMatch(
      /Deployment #D-[0-9a-f-]+ stopped at its breakpoint before BroadcastEnvKastafior-manage_user_post_install \(1\/1 nodes stopped, 0 OK, 0 KO\); kadeploy3 --resume D-[0-9a-f-]+ goes on\n/,
    );
    // Stopped before the postinstall: the image is there, the postinstall has not run.
    expect(existsSync(site.disk(n, 3, 'etc/os-release'))).toBe(true);
    const wid = readFileSync(widFile, 'utf8').trim();
    const res = await site.run('kadeploy3', ['--resume', wid]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/The deployment is successful on nodes/);
    expect(readFileSync(site.disk(n, 3, 'boot/grub/grub.cfg'), 'utf8')).toMatch(/linux/);
  });

  it('fails the node with a reason when a dd.gz image is empty (a dd of nothing, gzipped)', async () => {
    const n = site.nodes[3] as string;
    const empty = await site.sh('printf "" | gzip > images/empty.dd.gz');
    expect(empty.code).toBe(0);
    const desc = readFileSync(path.join(site.dir, 'envs', 'tiny-x64-base-dd.yaml'), 'utf8')
      .replace(/file: .*/, `file: server://${path.join(site.dir, 'images', 'empty.dd.gz')}`)
      .replace(/^name: .*/m, 'name: empty-dd')
      .replace(/^visibility: .*\n/m, '');
    writeFileSync(path.join(site.dir, 'empty-dd.yaml'), desc);
    const r = await site.run('kadeploy3', ['-m', n, '-a', path.join(site.dir, 'empty-dd.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(
      `The deployment failed on nodes\n${n} (BroadcastEnvKastafior-send_environment: the image is empty (it decompresses to 0 bytes))`,
    );
    expect(r.stdout).not.toMatch(/The deployment is successful/);
  });

  it("follows the tutorial's round trip: print, edit, deploy anonymously, add", async () => {
    const n = site.nodes[2] as string;
    const p = await site.sh('kaenv3 -p tiny-x64-base -u deploy > mytiny.env');
    expect(p.code).toBe(0);
    const file = path.join(site.dir, 'mytiny.env');
    const edited = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => !/^visibility/.test(l))
      .map((l) =>
        l.startsWith('name') ? 'name : mytiny' : l.startsWith('description') ? 'description : my tiny' : l,
      )
      .join('\n');
    writeFileSync(file, edited);
    const dry = await site.run('kadeploy3', ['-f', path.join(site.dir, 'nodes'), '-a', file, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/mytiny/);
    const r = await site.run('kadeploy3', ['-m', n, '-a', file]);
    expect(r.code).toBe(0);
    const stat = await site.sh(`kastat3 -x ${since()} -d | sed -n '$p'`);
    expect(stat.stdout).toContain(',mytiny:1,true,');
    const add = await site.run('kaenv3', ['-a', file]);
    expect(add.code).toBe(0);
    const l = await site.run('kaenv3', ['-l']);
    expect(l.stdout).toMatch(/^mytiny\s+1\s+root/m);
  });

  describe('bad input: clear errors, nothing touched', () => {
    const pxeFiles = () =>
      readdirSync(path.join(site.dir, 'tftp', 'pxelinux.cfg'))
        .sort()
        .join(',');
    const cases: [string, string[], number, RegExp, string?][] = [
      ['unknown node', ['-e', 'tiny-x64-base', '-m', 'nosuch.e2edeploy'], 3, /unknown node/],
      ['node name with shell characters', ['-e', 'tiny-x64-base', '-m', 'a;reboot'], 3, /invalid node name/],
      ['no node', ['-e', 'tiny-x64-base'], 3, /no node given/],
      ['environment not found', ['-e', 'nosuch-env', '-m', 'node-1.e2edeploy'], 4, /does not exist/],
      [
        '-o equal to -n',
        ['-e', 'tiny-x64-base', '-m', 'node-1.e2edeploy', '-o', 'x', '-n', 'x'],
        3,
        /must name different files/,
      ],
      [
        'invalid --force-steps',
        ['-e', 'tiny-x64-base', '-m', 'node-1.e2edeploy', '--force-steps', 'SetDeploymentEnv|Nope:1:1'],
        3,
        /force-steps/,
      ],
      [
        'breakpoint on a step not run',
        [
          '-e',
          'tiny-x64-base',
          '-m',
          'node-1.e2edeploy',
          '--breakpoint',
          'BroadcastEnvKastafior:manage_user_post_install',
        ],
        3,
        /breakpoint/i,
      ],
      [
        'unreadable key file',
        ['-e', 'tiny-x64-base', '-m', 'node-1.e2edeploy', '-k', '/nonexistent.pub'],
        3,
        /cannot read the key file/,
      ],
      [
        'no rights on the node',
        ['-e', 'tiny-x64-base', '-m', 'node-1.e2edeploy'],
        4,
        /right to deploy/,
        'alice',
      ],
      ['verbosity out of range', ['-e', 'tiny-x64-base', '-m', 'node-1.e2edeploy', '-V', '9'], 3, /0 to 5/],
      [
        '--no-wait with -s',
        ['-e', 'tiny-x64-base', '-m', 'node-1.e2edeploy', '--no-wait', '-s', '/bin/true'],
        3,
        /^kadeploy3: -s\/--script cannot be used with --no-wait \(the script runs after the deployment, which kadeploy3 does not wait for\) \[KAPLOY_CONFLICTING_OPTIONS\]\n$/,
      ],
    ];
    for (const [what, args, code, re, user] of cases) {
      it(what, async () => {
        const before = pxeFiles();
        const r = await site.run('kadeploy3', args, user ? { user } : {});
        expect(r.stderr).toMatch(re);
        expect(r.code).toBe(code);
        expect(pxeFiles()).toBe(before);
      });
    }
  });
});
