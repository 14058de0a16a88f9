import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RestoresRepo } from '../../src/engine/oar-restore/restores-repo.js';
import { listSpooled } from '../../src/hook/spool.js';
import { startTestEngine, type TestEngine } from './helpers/engine.js';
import { type FakeOar, makeFakeOar, oarstatJson } from './helpers/fake-oar.js';
import { writeHooksConfig } from './helpers/hooks.js';
import { HOOKS_DIR, KAPLOY } from './helpers/paths.js';

let engine: TestEngine;
let dir: string;
let fake: FakeOar;
let configFile: string;

beforeAll(async () => {
  engine = await startTestEngine({ nodes: 4 });
});
afterAll(async () => {
  await engine?.close();
});
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-oar-programs-'));
  fake = makeFakeOar(dir);
  configFile = writeHooksConfig(dir, { engineUrl: engine.url, tokenFile: engine.tokenFile('kaadmin'), fake });
  engine.server.ctx.store.db.exec('DELETE FROM rights; DELETE FROM oar_restores;');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a program as OAR would: no environment but the hooks' configuration file. */
function run(
  file: string,
  args: string[],
  env: Record<string, string> = { KAPLOY_OAR_HOOKS_CONFIG: configFile },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...env, KAPLOY_LOG_LEVEL: 'silent' }, cwd: '/' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
const hook = (name: string) => path.join(HOOKS_DIR, name);
const lines = (s: string) =>
  s
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^\[kaploy\] \[[0-9-]+ [0-9:.]+\] /, ''));

describe('hooks/* executables', () => {
  it('server_prologue JOBID, with no PATH and no other environment: grants, one line on stdout, exit 0', async () => {
    fake.set('oarstat', {
      stdout: oarstatJson({ job: 41, owner: 'alice', nodes: ['node-1.vsite', 'node-2.vsite'] }),
    });
    const r = await run(hook('server_prologue'), ['41']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      expect.stringMatching(/^\[server_prologue\] \[job 41\] granted alice deploy rights on 2 nodes/),
    ]);
    expect(engine.rightsOf('alice')).toHaveLength(2);
  });
  it.each([
    [[], '[server_prologue] no OAR job id given (expected one positive integer argument): nothing done'],
    [['abc'], "[server_prologue] invalid OAR job id 'abc': expected a positive integer: nothing done"],
    [['-1'], "[server_prologue] invalid OAR job id '-1': expected a positive integer: nothing done"],
  ])('server_prologue %j: a clear line, exit 0, oarstat never run', async (args, line) => {
    const r = await run(hook('server_prologue'), args);
    expect({ code: r.code, out: lines(r.stdout) }).toEqual({ code: 0, out: [line] });
    expect(fake.calls('oarstat')).toEqual([]);
  });
  it('server_epilogue with a bad job id: exit 0 (no job, no node to protect)', async () => {
    const r = await run(hook('server_epilogue'), ['12;reboot']);
    expect({ code: r.code, out: lines(r.stdout) }).toEqual({
      code: 0,
      out: ["[server_epilogue] invalid OAR job id '12;reboot': expected a positive integer: nothing done"],
    });
  });
  it('server_epilogue JOBID: Absent, revoked, handed over, exit 0', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 42, owner: 'bob', nodes: ['node-3.vsite'] }) });
    const r = await run(hook('server_epilogue'), ['42']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout).at(-1)).toBe(
      '[server_epilogue] [job 42] restore of 1 nodes handed to the engine (1 new)',
    );
    expect(fake.calls('oarnodesetting')).toEqual([['-n', '-s', 'Absent', '-r', '1']]);
  });
  it('node-level prologue JOBID USER NODEFILE: the node file and user given by OAR', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 43, owner: 'alice', nodes: ['node-1.vsite'] }) });
    const nodefile = path.join(dir, 'nodefile');
    writeFileSync(nodefile, 'node-2.vsite\nnode-2.vsite\nnode-4.vsite\nnode-4.vsite\n');
    const r = await run(hook('prologue'), ['43', 'bob', nodefile, '3600']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      expect.stringMatching(/^\[prologue\] \[job 43\] granted bob deploy rights on 2 nodes/),
    ]);
    expect(engine.rightsOf('bob')).toEqual(['node-2.vsite:/dev/sda3', 'node-4.vsite:/dev/sda3']);
  });
  it('node-level epilogue with an unreadable node file: oarstat hosts used instead', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 44, owner: 'alice', nodes: ['node-1.vsite'] }) });
    const r = await run(hook('epilogue'), ['44', 'alice', path.join(dir, 'gone')]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toMatch(
      /^\[epilogue\] \[job 44\] .*gone.*; using oarstat's owner and hosts instead$/,
    );
    expect(fake.calls('oarnodesetting')).toEqual([['-n', '-s', 'Absent', '-r', '1']]);
  });
  it('node-level prologue with a bad user argument: oarstat owner used instead', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 45, owner: 'alice', nodes: ['node-1.vsite'] }) });
    const r = await run(hook('prologue'), ['45', 'root;id', '/tmp/x']);
    expect(lines(r.stdout)[0]).toBe(
      "[prologue] [job 45] invalid job user argument 'root;id'; using oarstat's owner and hosts instead",
    );
    expect(engine.rightsOf('alice')).toEqual(['node-1.vsite:/dev/sda3']);
  });
});

describe('kaploy oar restores', () => {
  it('shows the spool and the engine; --deliver hands the spool over; --retry sets failed ones pending', async () => {
    fake.set('oarstat', {
      stdout: oarstatJson({ job: 46, owner: 'alice', nodes: ['node-1.vsite', 'node-2.vsite'] }),
    });
    const down = writeHooksConfig(dir, {
      engineUrl: 'http://127.0.0.1:9',
      tokenFile: engine.tokenFile('kaadmin'),
      fake,
    });
    expect((await run(hook('server_epilogue'), ['46'], { KAPLOY_OAR_HOOKS_CONFIG: down })).code).toBe(0);
    expect(listSpooled(path.join(dir, 'spool')).pending).toHaveLength(1);

    const show = await run(process.execPath, [KAPLOY, 'oar', 'restores', '-c', configFile]);
    expect(show.code).toBe(1);
    expect(show.stdout).toMatch(
      /^engine: no restore to show\nspool: job 46: 2 nodes of alice not yet delivered \(since .*, 1 failed attempts, last: cannot reach the kaploy server/,
    );

    const deliver = await run(process.execPath, [KAPLOY, 'oar', 'restores', '-c', configFile, '--deliver']);
    expect(deliver.code).toBe(0);
    expect(deliver.stdout.split('\n').slice(0, 4)).toEqual([
      'spool delivery: 1 delivered, 0 failed, 0 refused, 0 deferred',
      'JOB\tNODE\tUSER\tSTATE\tATTEMPTS\tUPDATED\tREASON',
      expect.stringMatching(/^46\tnode-1.vsite\talice\tpending\t0\t.*\t-$/),
      expect.stringMatching(/^46\tnode-2.vsite\talice\tpending\t0\t.*\t-$/),
    ]);
    expect(listSpooled(path.join(dir, 'spool')).pending).toEqual([]);

    const repo = new RestoresRepo(engine.server.ctx.store.db);
    repo.claim(46, 'node-2.vsite', 1);
    repo.finish(46, 'node-2.vsite', 'failed', 'no SSH in production', 2);
    const failed = await run(process.execPath, [
      KAPLOY,
      'oar',
      'restores',
      '-c',
      configFile,
      '--state',
      'failed',
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/46\tnode-2.vsite\talice\tfailed\t1\t.*\tno SSH in production\n$/);
    const retry = await run(process.execPath, [
      KAPLOY,
      'oar',
      'restores',
      '-c',
      configFile,
      '--retry',
      '--job',
      '46',
    ]);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('1 failed restores set pending again\n');
    expect(repo.list({ state: 'pending' })).toHaveLength(2);
  });
  it('the engine unreachable: the spool is still shown, exit 5', async () => {
    const down = writeHooksConfig(dir, {
      engineUrl: 'http://127.0.0.1:9',
      tokenFile: engine.tokenFile('kaadmin'),
      fake,
    });
    const r = await run(process.execPath, [KAPLOY, 'oar', 'restores', '-c', down]);
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/^engine: cannot list restores: cannot reach the kaploy server/);
  });
  it.each([
    [['--state', 'lost'], "invalid --state 'lost'"],
    [['--job', 'x1'], "invalid OAR job id 'x1'"],
  ])('bad options %j: exit 3', async (args, message) => {
    const r = await run(process.execPath, [KAPLOY, 'oar', 'restores', '-c', configFile, ...args]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(message);
  });
  it('a missing configuration: exit 3 with the file named', async () => {
    const r = await run(process.execPath, [KAPLOY, 'oar', 'restores'], {
      KAPLOY_OAR_HOOKS_CONFIG: path.join(dir, 'none.yaml'),
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot read the OAR hooks configuration ${dir}/none.yaml: ENOENT`);
  });
});
