import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordStats } from '../../src/stats/record-stats.js';
import { appUrl, MD5, row, statsApp, tempDb } from './helpers.js';

/**
 * kastat3 as users run it: the built CLI (dist/) through a real shell, against a real server on
 * port 0 serving the stats routes.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'dist/cli/kastat3.js');

let t: ReturnType<typeof tempDb>;
let app: FastifyInstance;
let env: NodeJS.ProcessEnv;
const now = Math.floor(Date.now() / 1000);

// The last deployment within 12 hours, as the tutorial's line prints it.
const LAST = `gsimo,gdx-121.orsay.grid5000.fr,SetDeploymentEnvUntrusted,BroadcastEnvKastafior,BootNewEnvClassical,550,1200,400,0,0,0,${now - 3600},107,50,0,squeeze-x64-base:5,false,${MD5},true,`;

beforeAll(async () => {
  t = tempDb();
  recordStats(t.db, [row({ wid: 'D-old', start: now - 86_400 })]);
  recordStats(t.db, [
    row({ wid: 'D-a', start: now - 7200 }),
    row({
      wid: 'D-a',
      hostname: 'gdx-122.orsay.grid5000.fr',
      start: now - 7200,
      success: false,
      md5: '',
      error: 'KO, then "gave up"',
    }),
  ]);
  recordStats(t.db, [row({ wid: 'D-b', start: now - 3600, timeout_step2: 1200 })]);
  // A reboot after the last deployment: kastat3 lists deployments unless -o says otherwise.
  recordStats(t.db, [
    row({
      wid: 'R-a',
      operation: 'reboot',
      start: now - 600,
      step1: 'Simple',
      step2: '',
      step3: '',
      env: '',
      md5: '',
    }),
  ]);
  app = await statsApp(t.db, 'orsay', 'tok-1234567890abcdef');
  const bin = path.join(t.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'kastat3'), `#!/bin/sh\nexec node ${cli} "$@"\n`, { mode: 0o755 });
  const token = path.join(t.dir, 'token');
  writeFileSync(token, 'tok-1234567890abcdef\n');
  chmodSync(token, 0o600);
  const config = path.join(t.dir, 'client.yaml');
  writeFileSync(
    config,
    `default: orsay\nservers:\n  orsay: { url: ${appUrl(app)}, token_file: ${token} }\n  down: { url: 'http://127.0.0.1:1', token_file: ${token} }\n`,
  );
  env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    KAPLOY_CLIENT_CONFIG: config,
    KAPLOY_TOKEN_FILE: undefined,
  };
  delete env.KAPLOY_TOKEN_FILE;
});
afterAll(async () => {
  await app?.close();
  t?.cleanup();
});

function sh(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { env, cwd: t.dir }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('kastat3 through a shell', () => {
  it("the tutorial's line prints the last deployment's row in the 20-field format", async () => {
    const r = await sh(
      "kastat3 -x $(date --date=@$((`date +%s` - 60*60*12)) +%Y:%m:%d:%H:%M:%S) -d | sed -n '$p'",
    );
    expect(r).toEqual({ code: 0, stdout: `${LAST}\n`, stderr: '' });
    expect(r.stdout.trimEnd().split(',')).toHaveLength(20);
  });

  it("kastat3 --help | grep '\\-\\-field' shows the field option with the field list", async () => {
    const r = await sh("kastat3 --help | grep '\\-\\-field'");
    expect(r.code).toBe(0);
    const first = r.stdout.split('\n')[0] ?? '';
    expect(first).toMatch(
      /^ {2}-f, --field <FIELD> +Only print the given fields \(user,hostname,step1,step2,step3,timeout_step1,timeout_step2,timeout_step3,retry_step1,retry_step2,retry_step3,start,step1_duration,step2_duration,step3_duration,env,anonymous_env,md5,success,error; also site,wid,operation\)$/,
    );
  });

  it('lists all deployments since a date, an error with a comma and quotes kept in one field', async () => {
    const r = await sh(`kastat3 -x ${isoLocal(now - 7200)} -d -F hostname,success,error`);
    expect(r).toEqual({
      code: 0,
      stdout:
        'gdx-121.orsay.grid5000.fr,true,\ngdx-122.orsay.grid5000.fr,false,"KO, then ""gave up"""\ngdx-121.orsay.grid5000.fr,true,\n',
      stderr: '',
    });
  });

  it('-o all, -w, -m, -l, -a and --header', async () => {
    expect((await sh('kastat3 -o all -l -f wid -f hostname')).stdout).toBe(
      'D-a,gdx-122.orsay.grid5000.fr\nR-a,gdx-121.orsay.grid5000.fr\n',
    );
    expect((await sh('kastat3 -w D-a -m gdx-122.orsay.grid5000.fr -f success --header')).stdout).toBe(
      'success\nfalse\n',
    );
    expect((await sh('kastat3 -o reboot -F step1,step2')).stdout).toBe('Simple,\n');
    expect((await sh('kastat3 -w R-a -F wid,step1')).stdout).toBe('R-a,Simple\n');
    expect((await sh('kastat3 -a 0 -s 2 --sort start:desc --limit 1 -F wid')).stdout).toBe('D-b\n');
  });

  it('-b and -c print node: rate%', async () => {
    expect(await sh('kastat3 -b')).toEqual({
      code: 0,
      stdout: 'gdx-121.orsay.grid5000.fr: 0.00%\ngdx-122.orsay.grid5000.fr: 100.00%\n',
      stderr: '',
    });
    expect((await sh('kastat3 -c 50')).stdout).toBe('gdx-122.orsay.grid5000.fr: 100.00%\n');
    expect((await sh('kastat3 -b -c 50 -o reboot')).stdout).toBe('');
  });

  it('stops quietly when the reader stops early (| head)', async () => {
    // 50,000 rows (~7 MB) overflow the pipe: kastat3 meets EPIPE once head has its line.
    recordStats(
      t.db,
      Array.from({ length: 50_000 }, (_, i) =>
        row({
          wid: 'P-big',
          operation: 'power',
          hostname: `n-${i}`,
          start: now - 500 + (i % 100),
          step1: 'Off',
          env: '',
          md5: '',
        }),
      ),
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a template
    const r = await sh('kastat3 -o power -d -F hostname,start | head -1; echo "status=${PIPESTATUS[0]}"');
    expect(r).toEqual({ code: 0, stdout: `n-0,${now - 500}\nstatus=0\n`, stderr: '' });
  });

  it('says so when nothing matches', async () => {
    expect(await sh('kastat3 -w D-none')).toEqual({
      code: 0,
      stdout: '',
      stderr: 'No information is available\n',
    });
  });
});

describe('kastat3 bad input: clear errors, exit code 3, nothing sent', () => {
  it.each([
    [
      '-x 2011-13-45 -d',
      "kastat3: invalid start date (-x) '2011-13-45': expected yyyy:mm:dd:hh:mm:ss (local time), ISO 8601 (2011-04-14T08:41:12, 2011-04-14T08:41:12Z, 2011-04-14) or epoch seconds [KAPLOY_OPTION]",
    ],
    [
      '-y 2011:04:14 -d',
      "kastat3: invalid end date (-y) '2011:04:14': expected yyyy:mm:dd:hh:mm:ss (local time), ISO 8601 (2011-04-14T08:41:12, 2011-04-14T08:41:12Z, 2011-04-14) or epoch seconds [KAPLOY_OPTION]",
    ],
    [
      '-d -f nope',
      "kastat3: unknown field 'nope': valid fields are site,wid,operation,user,hostname,step1,step2,step3,timeout_step1,timeout_step2,timeout_step3,retry_step1,retry_step2,retry_step3,start,step1_duration,step2_duration,step3_duration,env,anonymous_env,md5,success,error [KAPLOY_OPTION]",
    ],
    [
      '-c 101',
      "kastat3: invalid minimum failure rate '101': expected a number from 0 to 100 [KAPLOY_OPTION]",
    ],
    [
      '-a x',
      "kastat3: invalid minimum number of retries (-a) 'x': expected a whole number >= 0 [KAPLOY_OPTION]",
    ],
    [
      '-d -l',
      'kastat3: choose one listing: -d/--list-all, -l/--last cannot be combined [KAPLOY_CONFLICTING_OPTIONS]',
    ],
    [
      '-d -s 1',
      'kastat3: -s/--step applies the retry filter: use it with -a NB [KAPLOY_CONFLICTING_OPTIONS]',
    ],
    [
      '-b -f hostname',
      'kastat3: fields (-f/-F) cannot be chosen for failure rates (-b/-c) [KAPLOY_CONFLICTING_OPTIONS]',
    ],
    ['-o kexec', "kastat3: invalid operation 'kexec': expected deploy, reboot, power [KAPLOY_OPTION]"],
    ['-d -S nowhere', "kastat3: unknown server 'nowhere'; known: orsay, down [KAPLOY_OPTION]"],
  ])('kastat3 %s', async (args, message) => {
    expect(await sh(`kastat3 ${args}`)).toEqual({ code: 3, stdout: '', stderr: `${message}\n` });
  });

  it('an unknown option', async () => {
    const r = await sh('kastat3 --colour');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("error: unknown option '--colour'");
  });
});

function isoLocal(epoch: number): string {
  const d = new Date(epoch * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
