import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ROOT } from '../../hook/helpers/paths.js';
import { job, sh, waitFor, waitState } from '../hook/helpers/oar.js';
import { type OpenSshServer, startOpenSsh } from '../ssh/helpers/openssh-server.js';

// Real OAR 2.5.9 (scripts/setup-oar.sh) with two clusters standing in for two sites: alias a is
// cluster a through this machine's OAR commands, alias b cluster b through OpenSSH on loopback
// (another account, as on another site's frontend). alice types the tutorial's lines as written.
const NODES = ['a-1.grid', 'a-2.grid', 'b-1.grid', 'b-2.grid'];
const DIST = path.join(ROOT, 'dist', 'cli');
const SPOOL = '/var/lib/kaploy/oar-spool';

let dir: string;
let home: string;
let sshd: OpenSshServer;
let uid: number;

async function as(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = path.join(dir, 'script.sh');
  writeFileSync(
    file,
    `export HOME=${home} PATH=${path.join(dir, 'bin')}:$PATH KAPLOY_CLIENT_CONFIG=${path.join(dir, 'client.yaml')}\ncd ~\n${script}\n`,
    { mode: 0o644 },
  );
  return sh('su', ['-', 'alice', '-c', `bash ${file}`], { timeoutMs: 240_000 });
}

/** The OAR jobs named after grid ID, any owner, with their states. */
async function gridJobs(id: number): Promise<Record<string, string>> {
  const r = await sh('oarstat', ['-J', '--sql', `job_name = 'oargrid-${id}'`]);
  const doc = JSON.parse(r.stdout.trim() || '{}') as Record<string, { state: string; owner: string }>;
  return Object.fromEntries(Object.values(doc).map((j) => [j.owner, j.state]));
}

beforeAll(async () => {
  const setup = await sh('bash', [path.join(ROOT, 'scripts', 'setup-oar.sh'), 'reset'], {
    timeoutMs: 600_000,
  });
  if (setup.code !== 0) throw new Error(`setup-oar.sh failed: ${setup.stdout}${setup.stderr}`);
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-oargrid-oar-'));
  chmodSync(dir, 0o755);
  const nodesFile = path.join(dir, 'nodes');
  writeFileSync(nodesFile, NODES.map((n, i) => `${n} 127.14.0.${i + 1}\n`).join(''));
  const reg = await sh('bash', [path.join(ROOT, 'scripts', 'setup-oar.sh'), 'nodes', nodesFile]);
  if (reg.code !== 0) throw new Error(`setup-oar.sh nodes failed: ${reg.stdout}${reg.stderr}`);
  sshd = await startOpenSsh();
  uid = Number((await sh('id', ['-u', 'alice'])).stdout.trim());
  home = path.join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(path.join(dir, 'bin'));
  for (const p of ['oargridsub', 'oargridstat', 'oargriddel']) {
    writeFileSync(path.join(dir, 'bin', p), `#!/bin/sh\nexec node ${path.join(DIST, `${p}.js`)} "$@"\n`, {
      mode: 0o755,
    });
  }
  // alice's ssh client: the site frontend's host key pinned, the account's key, no prompt.
  const key = path.join(home, 'frontend-b.key');
  writeFileSync(key, sshd.engineKey, { mode: 0o600 });
  const hostKey = readFileSync(path.join(sshd.dir, 'host_ed25519.pub'), 'utf8')
    .split(' ')
    .slice(0, 2)
    .join(' ');
  writeFileSync(path.join(home, 'known_hosts'), `[127.0.0.1]:${sshd.port} ${hostKey}\n`);
  writeFileSync(
    path.join(home, 'ssh_config'),
    [
      'Host frontend-b',
      '  HostName 127.0.0.1',
      `  Port ${sshd.port}`,
      `  User ${sshd.username}`,
      `  IdentityFile ${key}`,
      `  UserKnownHostsFile ${path.join(home, 'known_hosts')}`,
      '  StrictHostKeyChecking yes',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(dir, 'client.yaml'),
    stringify({
      servers: { s: { url: 'http://127.0.0.1:1' } },
      oargrid: {
        aliases: {
          a: { site: 'site-a', cluster: 'a', access: 'local' },
          b: { site: 'site-b', cluster: 'b', access: 'ssh frontend-b' },
        },
        ssh_config: path.join(home, 'ssh_config'),
      },
    }),
    { mode: 0o644 },
  );
  for (const f of ['', 'frontend-b.key', 'known_hosts', 'ssh_config'])
    chownSync(path.join(home, f), uid, uid);
});

afterEach(async () => {
  // Deploy jobs that ran leave their nodes Absent with a spooled restore (the hooks, no engine
  // here): put them back so that the next test finds them, and drop what the hooks spooled.
  await sh('oarnodesetting', ['-s', 'Alive', ...NODES.flatMap((n) => ['-h', n])]);
  for (const f of readdirSync(SPOOL)) if (f.endsWith('.json')) rmSync(path.join(SPOOL, f), { force: true });
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('oargrid on a real OAR 2.5.9, one site through OpenSSH', () => {
  it("the tutorial's three lines as written: both sites reserved, waited for, their nodes listed", async () => {
    const r = await as(
      [
        'oargridsub -t deploy -w 03:00:00 a:rdef="nodes=1",b:rdef="nodes=1" > ~/oargrid.out',
        'grid_job_id=$(grep "Grid reservation id" ~/oargrid.out | cut -d"=" -f2)',
        'grid_job_id=$((grid_job_id+0))',
        "oargridstat -w -l $grid_job_id | sed '/^$/d' | uniq > ~/grid_nodes",
        'echo $grid_job_id',
      ].join('\n'),
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('1');
    const out = readFileSync(path.join(home, 'oargrid.out'), 'utf8');
    expect(out).toMatch(/^\[OAR_GRIDSUB\] \[a\] Reservation success on a : batchId = \d+$/m);
    expect(out).toMatch(/^\[OAR_GRIDSUB\] \[b\] Reservation success on b : batchId = \d+$/m);
    const nodes = readFileSync(path.join(home, 'grid_nodes'), 'utf8').trim().split('\n');
    expect(nodes).toHaveLength(2);
    expect(nodes[0]).toMatch(/^a-[12]\.grid$/);
    expect(nodes[1]).toMatch(/^b-[12]\.grid$/);
    // One OAR serves both "sites" here, and OAR refuses one key in two of its jobs: the second
    // site job got a key of its own, said on stdout.
    expect(out).toMatch(
      /^\[OAR_GRIDSUB\] \[[ab]\] SSH KEY : \S+grid-1-site-[ab] \(its OAR holds the grid key in another job\)$/m,
    );
    // Site a's job is alice's, site b's the frontend account's; both run now.
    expect(await gridJobs(1)).toEqual({ alice: 'Running', [sshd.username]: 'Running' });
    const del = await as('oargriddel 1');
    expect(del.code).toBe(0);
    await waitFor('grid 1 ended', async () => Object.values(await gridJobs(1)).every((s) => s === 'Error'));
    const stat = await as('oargridstat 1');
    expect(stat.stdout).toMatch(/a --> site site-a, batchId = \d+, state = Error \(deleted by oargriddel\)/);
    expect(stat.stdout).toMatch(/b --> site site-b, batchId = \d+, state = Error \(deleted by oargriddel\)/);
  });

  it('a site that refuses (more nodes than its cluster has): the other site job is deleted, exit 4', async () => {
    const r = await as('oargridsub -t deploy -w 1:00:00 a:rdef="nodes=1",b:rdef="nodes=3"');
    expect(r.code).toBe(4);
    expect(r.stdout).not.toContain('Grid reservation id');
    expect(r.stderr).toContain(
      '[OAR_GRIDSUB] [b] Reservation failed on b (site site-b) : There are not enough resources for your request',
    );
    expect(r.stderr).toMatch(/\[OAR_GRIDSUB\] \[site-a\] job (\d+) deleted \(grid reservation abandoned\)/);
    const jobId = Number(/job (\d+) deleted/.exec(r.stderr)?.[1]);
    expect((await waitState(jobId, ['Error'])).owner).toBe('alice');
  });

  it("the tutorial's `oarsub -l cluster=1/nodes=2 -t deploy` is accepted: two nodes of one cluster", async () => {
    const r = await as('oarsub -r "2030-01-01 12:00:00" -l cluster=1/nodes=2 -t deploy ./auto_deploy.sh');
    const jobId = Number(/OAR_JOB_ID=(\d+)/.exec(r.stdout)?.[1]);
    expect(r.stdout).toContain('Reservation valid --> OK');
    const f = await sh('oarstat', ['-fj', String(jobId)]);
    expect(f.stdout).toMatch(/reserved_resources = (1\+2|3\+4|\(1\+2\)|\(3\+4\))/);
    expect((await as(`oardel ${jobId}`)).code).toBe(0);
  });

  it('-F keeps the site that accepted; oargriddel deletes it', async () => {
    const r = await as(
      'oargridsub -F -t deploy -w 1:00:00 -s "2030-01-01 10:00:00" a:rdef="nodes=1",b:rdef="nodes=3"',
    );
    expect(r.code).toBe(1);
    const id = Number(/Grid reservation id = (\d+)/.exec(r.stdout)?.[1]);
    const jobId = Number(/Reservation success on a : batchId = (\d+)/.exec(r.stdout)?.[1]);
    expect((await job(jobId))?.state).toBe('Waiting');
    expect((await sh('oarstat', ['-fj', String(jobId)])).stdout).toMatch(/reservation = Scheduled/);
    expect((await as(`oargriddel ${id}`)).code).toBe(0);
    await waitState(jobId, ['Error']);
  });
});
