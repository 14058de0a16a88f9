import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { run } from '../../engine/helpers/run.js';

/**
 * The three programs against a fake OAR (fixtures/fake-oar.sh: the output recorded from OAR
 * 2.5.9) on two local sites (a, b) and one reached through "ssh" (c: the fake ssh hands the
 * remote command line to sh, as sshd does, so quoting mistakes would run).
 */
const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/cli');
const FAKE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fake-oar.sh');
let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-oargrid-'));
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  for (const p of ['oarsub', 'oarstat', 'oardel', 'date', 'ssh']) symlinkSync(FAKE, path.join(bin, p));
  mkdirSync(path.join(dir, 'remote-home'));
  const cfg = path.join(dir, 'client.yaml');
  writeFileSync(
    cfg,
    stringify({
      servers: { s: { url: 'http://127.0.0.1:1' } },
      oargrid: {
        aliases: {
          a: { site: 'sa', cluster: 'a', access: 'local' },
          b: { site: 'sb', cluster: 'b', access: 'local' },
          c: { site: 'sc', cluster: 'c', access: 'ssh frontend.c' },
        },
      },
    }),
  );
  env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    FAKE_OAR_DIR: dir,
    KAPLOY_CLIENT_CONFIG: cfg,
    XDG_DATA_HOME: path.join(dir, 'data'),
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mark = (name: string, text = '') => writeFileSync(path.join(dir, name), text);
const lines = (file: string) =>
  existsSync(path.join(dir, file)) ? readFileSync(path.join(dir, file), 'utf8').trim().split('\n') : [];
/** Each oarsub call's argument vector, in call order. */
function oarsubCalls(): string[][] {
  const calls: string[][] = [];
  let cur: string[] | undefined;
  for (const l of lines('calls')) {
    if (l === '--') {
      if (cur?.[0] === 'oarsub') calls.push(cur.slice(1));
      cur = undefined;
    } else if (cur) cur.push(l);
    else cur = [l];
  }
  return calls;
}
const sub = (...args: string[]) => run('oargridsub', args, { env });
const stat = (...args: string[]) => run('oargridstat', args, { env });
const KEY = () => path.join(dir, 'data', 'kaploy', 'oargrid-keys', 'grid-1');

describe('oargridsub with every site accepting', () => {
  it("runs the tutorial's lines: reservations, id, key; -w -l lists hosts per core then a blank line", async () => {
    const r = await sub('-t', 'deploy', '-w', '03:00:00', 'a:rdef=nodes=1,c:rdef=nodes=1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Sites are asked at once: which one OAR numbers first is not fixed.
    const ids = [...r.stdout.matchAll(/batchId = (\d+)/g)].map((m) => m[1]).sort();
    expect(ids).toEqual(['101', '102']);
    expect(r.stdout.replace(/batchId = \d+/g, 'batchId = N').split('\n')).toEqual([
      '[OAR_GRIDSUB] [a] Reservation success on a : batchId = N',
      '[OAR_GRIDSUB] [c] Reservation success on c : batchId = N',
      '[OAR_GRIDSUB] Grid reservation id = 1',
      `[OAR_GRIDSUB] SSH KEY : ${KEY()}`,
      '\tYou can use this key to connect directly to your OAR nodes with the oar user.',
      '',
    ]);
    const a = oarsubCalls().find((c) => c.some((x) => x.includes("cluster='a'")));
    const c = oarsubCalls().find((c) => c.some((x) => x.includes("cluster='c'")));
    expect(a?.[0]).toBe('-r');
    expect(a?.[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(a?.slice(2)).toEqual([
      '-t',
      'deploy',
      '-l',
      "{cluster='a'}/nodes=1,walltime=3:00:00",
      '-n',
      'oargrid-1',
      '-k',
      '-i',
      KEY(),
    ]);
    // One start for every site; the key reached site c through ssh's stdin and was removed after.
    expect(c?.[1]).toBe(a?.[1]);
    expect(c?.slice(-2)).toEqual(['-i', '.kaploy-oargrid/grid-1.key']);
    expect(existsSync(path.join(dir, 'remote-home', '.kaploy-oargrid', 'grid-1.key'))).toBe(false);
    expect(readFileSync(KEY(), 'utf8')).toMatch(/^-----BEGIN (OPENSSH|RSA) PRIVATE KEY-----/);
    expect(statSync(KEY()).mode & 0o777).toBe(0o600);
    const id = /Grid reservation id = (\d+)/.exec(r.stdout)?.[1] as string;
    const l = await stat('-w', '-l', id);
    expect(l.code).toBe(0);
    expect(l.stdout).toBe('a-1.grid\na-1.grid\nc-1.grid\nc-1.grid\n\n');
  });

  it('corrects each site clock: a start given with -s reaches the site as its own time', async () => {
    mark('skew', '3600');
    const start = new Date(Date.now() + 86_400_000);
    start.setMilliseconds(0);
    const p = (n: number) => String(n).padStart(2, '0');
    const local = `${start.getFullYear()}-${p(start.getMonth() + 1)}-${p(start.getDate())} ${p(start.getHours())}:${p(start.getMinutes())}:${p(start.getSeconds())}`;
    const r = await sub('-s', local, 'a:rdef=nodes=1');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[OAR_GRIDSUB] [a] Date/TZ adjustment: 3600 seconds');
    // The fake site prints its clock an hour ahead, in UTC.
    expect(oarsubCalls()[0]?.[1]).toBe(
      new Date(start.getTime() + 3_600_000).toISOString().slice(0, 19).replace('T', ' '),
    );
  });

  it('a property reaches the ssh site as one argument: nothing in it runs in the remote shell', async () => {
    const prop = "x='$(touch pwned)' OR y='`touch pwned2`' OR z='\\' OR name LIKE 'a b'";
    const bad = await sub(`c:rdef=nodes=1:prop=${prop}`);
    expect(bad.code).toBe(3); // the backslash is refused before any site is asked
    const r = await sub(`c:rdef=nodes=1:prop=${prop.replace("z='\\' OR ", '')}`);
    expect(r.code).toBe(0);
    expect(oarsubCalls()[0]?.[3]).toBe(
      "{cluster='c' AND (x='$(touch pwned)' OR y='`touch pwned2`' OR name LIKE 'a b')}/nodes=1,walltime=1:00:00",
    );
    expect(existsSync(path.join(dir, 'remote-home', 'pwned'))).toBe(false);
    expect(existsSync(path.join(dir, 'remote-home', 'pwned2'))).toBe(false);
  });
});

describe('two sites served by one OAR', () => {
  it('the second site job, refused the shared key, gets a key of its own, said on stdout', async () => {
    mark('one-oar');
    const both = await sub('a:rdef=nodes=1,c:rdef=nodes=1');
    expect(both.code).toBe(0);
    const m =
      /^\[OAR_GRIDSUB\] \[([ac])\] SSH KEY : (\S+) \(its OAR holds the grid key in another job\)$/m.exec(
        both.stdout,
      );
    expect(m?.[2]).toBe(`${KEY()}-s${m?.[1]}`);
    expect(readFileSync(m?.[2] as string, 'utf8')).toMatch(/PRIVATE KEY/);
    expect(both.stdout).toContain('[OAR_GRIDSUB] Grid reservation id = 1');
  });
});

describe('oargridsub when a site refuses', () => {
  it('deletes the jobs already made, prints no grid id and exits 4', async () => {
    mark('refuse-b');
    const r = await sub('-t', 'deploy', 'a:rdef=nodes=1,b:rdef=nodes=1');
    expect(r.code).toBe(4);
    expect(r.stdout).not.toContain('Grid reservation id');
    expect(r.stderr).toContain(
      '[OAR_GRIDSUB] [b] Reservation failed on b (site sb) : There are not enough resources for your request',
    );
    expect(r.stderr).toContain('[OAR_GRIDSUB] [sa] job 101 deleted (grid reservation abandoned)');
    expect(lines('deleted')).toEqual(['101']);
    const s = await stat('1');
    expect(s.stdout).toContain('state : failed');
    expect(s.stdout).toContain('a --> site sa, batchId = 101, state = Error (deleted by oargriddel)');
    expect(s.stdout).toContain(
      'b --> site sb, no job, state = - (refused) : There are not enough resources for your request',
    );
  });

  it('-F keeps the sites that accepted: grid id printed, exit 1, nothing deleted', async () => {
    mark('refuse-b');
    const r = await sub('-F', 'a:rdef=nodes=1,b:rdef=nodes=1');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[OAR_GRIDSUB] [a] Reservation success on a : batchId = 101');
    expect(r.stdout).toContain('[OAR_GRIDSUB] Grid reservation id = 1');
    expect(lines('deleted')).toEqual([]);
    expect((await stat('-l', '1')).stdout).toBe('a-1.grid\na-1.grid\n\n');
  });

  it('a failed oardel during the rollback is reported and the grid kept; oargriddel finishes it', async () => {
    mark('refuse-b');
    mark('oardel-fails');
    const r = await sub('a:rdef=nodes=1,b:rdef=nodes=1');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      '[OAR_GRIDSUB] [sa] job 101 could NOT be deleted: Deleting the job = 101 ...ERROR. Cannot frag 101 ; You are not the right user.',
    );
    expect(r.stderr).toContain(
      'Grid reservation 1 is kept: some of its jobs may still exist; see oargridstat 1, retry oargriddel 1',
    );
    expect((await stat('1')).stdout).toContain(
      'a --> site sa, batchId = 101, state = Running (deletion failed) : oardel 101:',
    );
    const again = await run('oargriddel', ['1'], { env });
    expect(again.code).toBe(1);
    rmSync(path.join(dir, 'oardel-fails'));
    const del = await run('oargriddel', ['1'], { env });
    expect(del.code).toBe(0);
    expect(del.stdout).toBe('[OAR_GRIDDEL] [a] job 101 on sa deleted\n');
    expect(lines('deleted')).toEqual(['101']);
  });

  it('a site answering garbage is a refusal (exit 4); an unreachable one exit 5; both roll back', async () => {
    mark('garbage-b');
    const g = await sub('a:rdef=nodes=1,b:rdef=nodes=1');
    expect(g.code).toBe(4);
    expect(g.stderr).toContain('Reservation failed on b (site sb) : oarsub answered what OAR does not print');
    mark('ssh-down');
    const u = await sub('a:rdef=nodes=1,c:rdef=nodes=1');
    expect(u.code).toBe(5);
    expect(u.stderr).toContain(
      'Reservation failed on c (site sc) : cannot reach frontend.c over ssh: ssh: connect to host frontend.c port 22: Connection refused',
    );
    expect(lines('deleted')).toEqual(['101', '102']);
  });
});

describe('oargridsub when a site never answers', () => {
  /** The shortest command deadline the configuration allows (5 s), so a hung oarsub ends soon. */
  const shortDeadline = () => {
    const cfg = env.KAPLOY_CLIENT_CONFIG as string;
    const doc = parse(readFileSync(cfg, 'utf8'));
    doc.oargrid.command_timeout = 5;
    writeFileSync(cfg, stringify(doc));
  };

  it('an oarsub that made its job then hung: timed out, the job found by its name and deleted with the others', async () => {
    shortDeadline();
    mark('hang-b');
    const r = await sub('a:rdef=nodes=1,b:rdef=nodes=1');
    expect(r.code).toBe(4);
    expect(r.stdout).not.toContain('Grid reservation id');
    expect(r.stderr).toContain(
      '[OAR_GRIDSUB] [b] Reservation failed on b (site sb) : oarsub did not answer in time',
    );
    expect(r.stderr).toMatch(/\[OAR_GRIDSUB\] \[sa\] job 10[12] deleted \(grid reservation abandoned\)/);
    expect(r.stderr).toMatch(/\[OAR_GRIDSUB\] \[sb\] job 10[12] deleted \(grid reservation abandoned\)/);
    expect(r.stderr).not.toContain('is kept');
    // Both jobs OAR made are gone: nothing left reserved.
    expect(lines('deleted').sort()).toEqual(
      lines('jobs')
        .map((l) => l.split(' ')[0])
        .sort(),
    );
    expect(lines('deleted')).toHaveLength(2);
    const oarstat = lines('calls').filter((l) => l === "job_name = 'oargrid-1'");
    expect(oarstat).toHaveLength(1);
    const s = await stat('1');
    expect(s.stdout).toContain('state : failed');
    expect(s.stdout).toMatch(/b --> site sb, batchId = 10[12], state = Error \(deleted by oargriddel\)/);
  });

  it('one that hung before making a job: looked up, none, said; a failed lookup is reported and the grid kept', async () => {
    shortDeadline();
    mark('slow-b');
    const r = await sub('a:rdef=nodes=1,b:rdef=nodes=1');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('[OAR_GRIDSUB] [sa] job 101 deleted (grid reservation abandoned)');
    expect(r.stderr).toContain(
      '[OAR_GRIDSUB] [sb] no job named oargrid-1 on the site: nothing left reserved there',
    );
    expect(r.stderr).not.toContain('is kept');
    expect(lines('deleted')).toEqual(['101']);

    rmSync(path.join(dir, 'slow-b'));
    mark('hang-b');
    mark('oarstat-fails');
    const k = await sub('a:rdef=nodes=1,b:rdef=nodes=1');
    expect(k.code).toBe(4);
    expect(k.stderr).toContain(
      `[OAR_GRIDSUB] [sb] its job could not be looked up (oarstat --sql "job_name = 'oargrid-2'" -J failed: exit code 1: DBI connect failed: Connection refused); check with oarstat --sql "job_name = 'oargrid-2'" on sb and oardel what it lists`,
    );
    expect(k.stderr).toContain(
      'Grid reservation 2 is kept: some of its jobs may still exist; see oargridstat 2, retry oargriddel 2',
    );
    expect((await stat('2')).stdout).toContain('b --> site sb, no job, state = - (submission unanswered)');
    // oargriddel finishes it once the site answers: the job found by its name, deleted.
    rmSync(path.join(dir, 'oarstat-fails'));
    const b2 = lines('jobs')
      .find((l) => l.endsWith(' b oargrid-2'))
      ?.split(' ')[0] as string;
    expect(lines('deleted')).not.toContain(b2);
    const del = await run('oargriddel', ['2'], { env });
    expect(del.code).toBe(0);
    expect(del.stdout).toBe(`[OAR_GRIDDEL] [b] job ${b2} on sb deleted\n`);
    expect(lines('deleted')).toContain(b2);
    expect((await stat('2')).stdout).toContain('state : deleted');
  });

  it('-F: the sites that answered are kept, the unanswered one is cleared', async () => {
    shortDeadline();
    mark('hang-b');
    const r = await sub('-F', 'a:rdef=nodes=1,b:rdef=nodes=1');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[OAR_GRIDSUB] Grid reservation id = 1');
    const b = lines('jobs')
      .find((l) => l.split(' ')[1] === 'b')
      ?.split(' ')[0];
    expect(r.stderr).toContain(`[OAR_GRIDSUB] [sb] job ${b} deleted (grid reservation abandoned)`);
    expect(lines('deleted')).toEqual([b]);
  });
});

describe('oargridstat -w is bounded', () => {
  it('--max-wait reached while a site job still waits: exit 4 naming it; a bad --max-wait exit 3', async () => {
    expect((await sub('a:rdef=nodes=1,b:rdef=nodes=1')).code).toBe(0);
    mark('waiting');
    const t0 = Date.now();
    const w = await stat('-w', '--max-wait', '1', '1');
    expect(w.code).toBe(4);
    expect(w.stderr).toMatch(
      /grid reservation 1: not every site job runs by the end of the wait \(s[ab] job 10[12] Waiting, s[ab] job 10[12] Waiting\); wait longer with --max-wait SECONDS, or look with oargridstat 1 \[KAPLOY_OAR\]/,
    );
    expect(Date.now() - t0).toBeLessThan(30_000);
    for (const bad of ['0', '-5', '1.5', 'soon', '99999999'])
      expect([bad, (await stat('-w', '--max-wait', bad, '1')).code]).toEqual([bad, 3]);
    rmSync(path.join(dir, 'waiting'));
    const ok = await stat('-w', '--max-wait', '5', '-l', '1');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('a-1.grid\na-1.grid\nb-1.grid\nb-1.grid\n\n');
  });
});

describe('a client configuration with only an oargrid section', () => {
  it('serves the three oargrid commands; kadeploy3 says no server is configured (exit 3)', async () => {
    const cfg = env.KAPLOY_CLIENT_CONFIG as string;
    const doc = parse(readFileSync(cfg, 'utf8'));
    delete doc.servers;
    writeFileSync(cfg, stringify(doc));
    const r = await sub('a:rdef=nodes=1');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[OAR_GRIDSUB] Grid reservation id = 1');
    expect((await stat('1')).code).toBe(0);
    expect((await run('oargriddel', ['1'], { env })).code).toBe(0);
    const k = await run('kadeploy3', ['-m', 'a-1.grid', '-e', 'debian'], { env });
    expect(k.code).toBe(3);
    expect(k.stderr).toContain(`${cfg} configures no server (no servers section)`);
  });
});

describe('-p and Ctrl-C', () => {
  it("-p is the first alias's site job's command only", async () => {
    const r = await sub('-p', './auto_deploy.sh "my env"', 'a:rdef=nodes=1,b:rdef=nodes=2');
    expect(r.code).toBe(0);
    const a = oarsubCalls().find((c) => c.some((x) => x.includes("cluster='a'")));
    const b = oarsubCalls().find((c) => c.some((x) => x.includes("cluster='b'")));
    expect(a?.at(-1)).toBe('./auto_deploy.sh "my env"');
    expect(b?.at(-1)).toBe(KEY());
  });

  it('Ctrl-C while a site is still answering: the jobs already made are deleted, exit 130', async () => {
    mark('slow-b');
    const p = spawn(process.execPath, [path.join(DIST, 'oargridsub.js'), 'a:rdef=nodes=1,b:rdef=nodes=1'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    for (let i = 0; i < 200 && lines('jobs').length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    p.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('[OAR_GRIDSUB] [sa] job 101 deleted (grid reservation abandoned)');
    expect(lines('deleted')).toEqual(['101']);
  });
});

describe('bad input: exit 3, no site asked', () => {
  it.each([
    [['z:rdef=nodes=1'], /unknown alias 'z'; the client configuration's oargrid aliases are a, b, c/],
    [['a:rdef=nodes=x'], /malformed rdef 'nodes=x'/],
    [['-w', '3h', 'a:rdef=nodes=1'], /walltime '3h' does not parse/],
    [['-s', 'tomorrow', 'a:rdef=nodes=1'], /start date 'tomorrow' does not parse/],
  ])('%j', async (args, why) => {
    const r = await sub(...args);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(why);
    expect(lines('calls')).toEqual([]);
  });
  it('an unknown grid id; a configuration without oargrid section; one site reached two ways', async () => {
    await sub('a:rdef=nodes=1');
    expect((await stat('7')).stderr).toMatch(
      /no grid reservation 7 in .*oargrid.sqlite \[KAPLOY_NOT_FOUND\]/,
    );
    writeFileSync(
      env.KAPLOY_CLIENT_CONFIG as string,
      stringify({ servers: { s: { url: 'http://127.0.0.1:1' } } }),
    );
    const none = await stat('1');
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/has no oargrid section/);
    writeFileSync(
      env.KAPLOY_CLIENT_CONFIG as string,
      stringify({
        servers: { s: { url: 'http://127.0.0.1:1' } },
        oargrid: {
          aliases: { a: { site: 's', access: 'local' }, b: { site: 's', access: 'ssh -oProxyCommand=x' } },
        },
      }),
    );
    const twice = await sub('a:rdef=nodes=1');
    expect(twice.code).toBe(3);
    expect(twice.stderr).toMatch(/oargrid\.aliases\.b\.access: expected local or ssh \[USER@\]HOST/);
  });
});
