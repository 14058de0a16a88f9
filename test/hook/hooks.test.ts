import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RestoresRepo } from '../../src/engine/oar-restore/restores-repo.js';
import { runEpilogue } from '../../src/hook/epilogue.js';
import { runPrologue } from '../../src/hook/prologue.js';
import { listSpooled, spoolFile } from '../../src/hook/spool.js';
import { startTestEngine, type TestEngine } from './helpers/engine.js';
import { type FakeOar, fixture, makeFakeOar, oarstatJson } from './helpers/fake-oar.js';
import { hookDeps, writeHooksConfig } from './helpers/hooks.js';

let engine: TestEngine;
let dir: string;
let fake: FakeOar;
let configFile: string;
let restores: RestoresRepo;

beforeAll(async () => {
  engine = await startTestEngine({ nodes: 6 });
  restores = new RestoresRepo(engine.server.ctx.store.db);
});
afterAll(async () => {
  await engine?.close();
});
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-oar-hooks-'));
  fake = makeFakeOar(dir);
  configFile = writeHooksConfig(dir, { engineUrl: engine.url, tokenFile: engine.tokenFile('kaadmin'), fake });
  engine.server.ctx.store.db.exec('DELETE FROM rights; DELETE FROM oar_restores;');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const N = (...i: number[]) => i.map((k) => `node-${k}.vsite`);

async function prologue(job: number, cfg = configFile) {
  const { deps, lines } = hookDeps(cfg, 'server_prologue', job);
  const code = await runPrologue(deps, job);
  await deps.engine?.close();
  return { code, lines };
}

async function epilogue(job: number, cfg = configFile) {
  const { deps, lines } = hookDeps(cfg, 'server_epilogue', job);
  const code = await runEpilogue(deps, job);
  await deps.engine?.close();
  return { code, lines };
}

describe('server prologue', () => {
  it('grants the owner rights on exactly the job nodes (deploy partition)', async () => {
    fake.set('oarstat', {
      stdout: oarstatJson({ job: 21, owner: 'alice', nodes: N(2, 2, 3), state: 'Launching' }),
    });
    const r = await prologue(21);
    expect(r.code).toBe(0);
    expect(engine.rightsOf('alice')).toEqual(['node-2.vsite:/dev/sda3', 'node-3.vsite:/dev/sda3']);
    expect(engine.rightsOf('bob')).toEqual([]);
    expect(fake.calls('oarstat')).toEqual([['-J', '-f', '-j', '21']]);
    expect(r.lines).toEqual([
      expect.stringMatching(
        /^\[server_prologue\] \[job 21\] granted alice deploy rights on 2 nodes \(partitions \/dev\/sda3\) in \d+ ms$/,
      ),
    ]);
  });
  it('does nothing for a job that is not of type deploy', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 22, types: ['besteffort'], nodes: N(1) }) });
    const r = await prologue(22);
    expect(r).toEqual({
      code: 0,
      lines: ['[server_prologue] [job 22] not a deploy job (types: besteffort): nothing to do'],
    });
    expect(engine.rightsOf('alice')).toEqual([]);
  });
  it('a job OAR does not know (oarstat prints nothing): nothing, exit 0', async () => {
    fake.set('oarstat', { stdout: '' });
    expect(await prologue(999)).toEqual({
      code: 0,
      lines: [
        '[server_prologue] [job 999] job 999 is unknown to OAR (oarstat prints nothing): nothing to do',
      ],
    });
  });
  it('a deploy job with no node: nothing, exit 0', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 23, nodes: [] }) });
    expect(await prologue(23)).toEqual({
      code: 0,
      lines: ['[server_prologue] [job 23] deploy job of alice has no assigned node: nothing to do'],
    });
  });
  it.each([
    [
      'oarstat failing',
      { stderr: 'DBI connect failed', rc: 1 },
      'oarstat -J -f -j 24 failed: exit code 1: DBI connect failed',
    ],
    [
      'oarstat printing garbage',
      { stdout: 'Use of uninitialized value' },
      "not JSON (starts with 'Use of uninitialized value')",
    ],
  ])('%s: a clear line, no rights, exit 0', async (_what, out, message) => {
    fake.set('oarstat', out);
    const cfg = writeHooksConfig(dir, {
      engineUrl: engine.url,
      tokenFile: engine.tokenFile('kaadmin'),
      fake,
      extra: { deadline_seconds: 2, command_timeout_seconds: 1, request_timeout_seconds: 1 },
    });
    const r = await prologue(24, cfg);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toContain(message);
    expect(r.lines[0]).toContain('no rights granted (the job starts, its owner cannot deploy)');
    expect(fake.calls('oarstat').length).toBeGreaterThan(1); // retried
  });
  it('the engine unreachable: logged, exit 0', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 25, nodes: N(1) }) });
    const cfg = writeHooksConfig(dir, {
      engineUrl: 'http://127.0.0.1:9',
      tokenFile: engine.tokenFile('kaadmin'),
      fake,
    });
    const r = await prologue(25, cfg);
    expect(r.code).toBe(0);
    expect(r.lines.at(-1)).toMatch(
      /could not grant alice rights on 1 nodes, the owner cannot deploy in this job: cannot reach the kaploy server/,
    );
  });
  it('nodes the engine does not know: refused at once (not retried), logged, exit 0', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 26, nodes: ['other-1.elsewhere'] }) });
    const r = await prologue(26);
    expect(r.code).toBe(0);
    expect(r.lines.at(-1)).toContain('unknown node(s) on site vsite: other-1.elsewhere');
  });
  it.each([
    ['missing', (d: string) => path.join(d, 'none.yaml'), 'configuration unusable'],
    [
      'wrong',
      (d: string) => {
        writeFileSync(path.join(d, 'bad.yaml'), 'engine_url: 3\n');
        return path.join(d, 'bad.yaml');
      },
      'engine_url: expected a non-empty string',
    ],
    [
      'with a group-readable token',
      (d: string) => {
        const t = path.join(d, 'token');
        writeFileSync(t, 'a'.repeat(32));
        chmodSync(t, 0o640);
        return writeHooksConfig(d, { engineUrl: engine.url, tokenFile: t, fake });
      },
      'engine credential unusable',
    ],
  ])('a configuration %s: a clear line, no rights, exit 0', async (_what, make, message) => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 27, nodes: N(1) }) });
    const { deps, lines } = hookDeps(make(dir), 'server_prologue', 27);
    expect(await runPrologue({ ...deps, config: { ...deps.config, oarstat: fake.oarstat } }, 27)).toBe(0);
    expect(lines[0]).toContain(message);
    expect(lines.at(-1)).toContain('cannot grant alice rights on 1 nodes: no usable engine configuration');
    expect(engine.rightsOf('alice')).toEqual([]);
  });
});

describe('server epilogue', () => {
  it('revokes the rights, sets the nodes Absent (-n), hands the restore over; nothing left in the spool', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 31, owner: 'alice', nodes: N(1, 2) }) });
    expect((await prologue(31)).code).toBe(0);
    expect(engine.rightsOf('alice')).toHaveLength(2);
    fake.set('oarnodesetting', { stdout: fixture('oarnodesetting-absent.stdout') });
    const r = await epilogue(31);
    expect(r.code).toBe(0);
    expect(engine.rightsOf('alice')).toEqual([]);
    expect(fake.calls('oarnodesetting')).toEqual([['-n', '-s', 'Absent', '-r', '1', '-r', '2']]);
    expect(restores.list().map((x) => [x.job, x.node, x.user, x.state, x.production])).toEqual([
      [31, 'node-1.vsite', 'alice', 'pending', 'prod-env'],
      [31, 'node-2.vsite', 'alice', 'pending', 'prod-env'],
    ]);
    expect(listSpooled(path.join(dir, 'spool')).pending).toEqual([]);
    expect(r.lines).toEqual([
      '[server_epilogue] [job 31] deploy job of alice on 2 nodes ended (state Finishing): restoring production',
      expect.stringMatching(
        /^\[server_epilogue\] \[job 31\] 2 nodes set Absent until production is restored in \d+ ms$/,
      ),
      expect.stringMatching(
        /^\[server_epilogue\] \[job 31\] revoked alice's rights on 2 nodes \(2 removed\) in \d+ ms$/,
      ),
      '[server_epilogue] [job 31] restore of 2 nodes handed to the engine (2 new)',
    ]);
  });
  it('a re-run for the same job duplicates nothing', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 32, nodes: N(3) }) });
    await epilogue(32);
    const again = await epilogue(32);
    expect(again.code).toBe(0);
    expect(again.lines.at(-1)).toBe(
      '[server_epilogue] [job 32] restore of 1 nodes handed to the engine (0 new)',
    );
    expect(restores.list()).toHaveLength(1);
  });
  it('hosts unknown to OAR (oarnodesetting exit 4): the known ones are set, exit 0', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 33, nodes: N(3, 4) }) });
    fake.set('oarnodesetting', {
      stdout: 'node-3.vsite --> Absent\n',
      stderr: '/!\\ Node node-4.vsite does not exist in OAR database.\n',
      rc: 4,
    });
    const r = await epilogue(33);
    expect(r.code).toBe(0);
    expect(r.lines[1]).toMatch(
      /2 nodes set Absent until production is restored \(1 unknown to OAR: node-4.vsite\)/,
    );
  });
  it('the engine down: nodes still Absent, request spooled, exit 0; the next hook run delivers it (and revokes)', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 34, owner: 'bob', nodes: N(5, 6) }) });
    await prologue(34);
    expect(engine.rightsOf('bob')).toHaveLength(2);
    const down = writeHooksConfig(dir, {
      engineUrl: 'http://127.0.0.1:9',
      tokenFile: engine.tokenFile('kaadmin'),
      fake,
    });
    const r = await epilogue(34, down);
    expect(r.code).toBe(0);
    expect(fake.calls('oarnodesetting')).toEqual([['-n', '-s', 'Absent', '-r', '1', '-r', '2']]);
    expect(r.lines.at(-1)).toBe(
      `[server_epilogue] [job 34] restore request kept in ${spoolFile(path.join(dir, 'spool'), 34)}: delivered by the next hook run or 'kaploy oar restores --deliver'`,
    );
    expect(listSpooled(path.join(dir, 'spool')).pending.map((e) => e.request)).toEqual([
      { job: 34, user: 'bob', nodes: N(5, 6), production: 'prod-env' },
    ]);
    expect(restores.list()).toEqual([]);
    // The engine is back: the next prologue (another job) hands the request over, which revokes bob's rights.
    fake.set('oarstat', { stdout: oarstatJson({ job: 35, owner: 'alice', nodes: N(1) }) });
    const p = await prologue(35);
    expect(p.lines.at(-1)).toBe(
      '[server_prologue] [job 35] restore request for job 34 (2 nodes of bob) delivered from the spool',
    );
    expect(restores.list({ job: 34 }).map((x) => x.state)).toEqual(['pending', 'pending']);
    expect(engine.rightsOf('bob')).toEqual([]);
    expect(readdirSync(path.join(dir, 'spool'))).toEqual([]);
  });
  it("a spooled request delivered by a later job's prologue on the same nodes: that job keeps its rights, its nodes are not restored", async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 36, owner: 'alice', nodes: N(5, 6) }) });
    await prologue(36);
    const down = writeHooksConfig(dir, {
      engineUrl: 'http://127.0.0.1:9',
      tokenFile: engine.tokenFile('kaadmin'),
      fake,
    });
    await epilogue(36, down);
    expect(listSpooled(path.join(dir, 'spool')).pending).toHaveLength(1);
    // An admin put node-5 back Alive by hand; alice's next deploy job 37 got it, and its prologue
    // (engine back) grants first, then delivers job 36's request.
    fake.set('oarstat', { stdout: oarstatJson({ job: 37, owner: 'alice', nodes: N(5) }) });
    const p = await prologue(37);
    expect(p.lines.at(-1)).toBe(
      '[server_prologue] [job 37] restore request for job 36 (2 nodes of alice) delivered from the spool',
    );
    expect(engine.rightsOf('alice')).toEqual(['node-5.vsite:/dev/sda3']);
    expect(restores.list({ job: 36 }).map((x) => `${x.node} ${x.state}`)).toEqual([
      'node-5.vsite superseded',
      'node-6.vsite pending',
    ]);
    // Job 37's own end revokes and restores node-5 as usual.
    fake.set('oarstat', { stdout: oarstatJson({ job: 37, owner: 'alice', nodes: N(5) }) });
    await epilogue(37);
    expect(engine.rightsOf('alice')).toEqual([]);
    expect(restores.list({ job: 37 }).map((x) => `${x.node} ${x.state}`)).toEqual(['node-5.vsite pending']);
  });
  it('resource ids refused by oarnodesetting: the hosts are set instead', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 41, nodes: N(3, 4) }) });
    fake.set('oarnodesetting', { stderr: '/!\\  1 resource(s) cannot be updated.', rc: 3 });
    const cfg = writeHooksConfig(dir, {
      engineUrl: engine.url,
      tokenFile: engine.tokenFile('kaadmin'),
      fake,
      extra: { deadline_seconds: 3, command_timeout_seconds: 1, request_timeout_seconds: 1 },
    });
    const r = await epilogue(41, cfg);
    expect(r.code).toBe(1); // the fake refuses the hosts too
    expect(fake.calls('oarnodesetting').slice(0, 2)).toEqual([
      ['-n', '-s', 'Absent', '-r', '1', '-r', '2'],
      ['-n', '-s', 'Absent', '-h', 'node-3.vsite', '-h', 'node-4.vsite'],
    ]);
  });
  it('a non-deploy job: nothing at all, exit 0', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 36, types: [], nodes: N(1) }) });
    expect(await epilogue(36)).toEqual({
      code: 0,
      lines: ['[server_epilogue] [job 36] not a deploy job (types: none): nothing to do'],
    });
    expect(fake.calls('oarnodesetting')).toEqual([]);
  });
  it('a job OAR does not know: nothing, exit 0', async () => {
    fake.set('oarstat', { stdout: '' });
    expect((await epilogue(998)).code).toBe(0);
    expect(fake.calls('oarnodesetting')).toEqual([]);
  });
  it.each([
    ['failing', { stderr: 'cannot connect', rc: 255 }],
    ['printing garbage', { stdout: '{"37": {"Job_Id": 37, "owner": 12}}' }],
  ])(
    'oarstat %s: exit 1 (OAR stops the queues rather than release nodes without production), a clear line',
    async (_what, out) => {
      fake.set('oarstat', out);
      const cfg = writeHooksConfig(dir, {
        engineUrl: engine.url,
        tokenFile: engine.tokenFile('kaadmin'),
        fake,
        extra: { deadline_seconds: 3, command_timeout_seconds: 1, request_timeout_seconds: 1 },
      });
      const r = await epilogue(37, cfg);
      expect(r.code).toBe(1);
      expect(r.lines).toHaveLength(1);
      expect(r.lines[0]).toMatch(
        /^\[server_epilogue\] \[job 37\] cannot read job 37: .*; exiting 1 so that OAR stops the queues/,
      );
    },
  );
  it('oarnodesetting failing: exit 1, the restore still handed over', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 38, nodes: N(2) }) });
    fake.set('oarnodesetting', { stderr: 'Cannot connect to the database', rc: 255 });
    const cfg = writeHooksConfig(dir, {
      engineUrl: engine.url,
      tokenFile: engine.tokenFile('kaadmin'),
      fake,
      extra: { deadline_seconds: 5, command_timeout_seconds: 1 },
    });
    const r = await epilogue(38, cfg);
    expect(r.code).toBe(1);
    expect(r.lines[1]).toMatch(
      /FAILED to set the 1 nodes Absent: exit code 255: Cannot connect to the database/,
    );
    expect(restores.list({ job: 38 })).toHaveLength(1);
  });
  it('oarnodesetting hanging: killed within the deadline, exit 1', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 39, nodes: N(2) }) });
    fake.set('oarnodesetting', { sleep: 30 });
    const cfg = writeHooksConfig(dir, {
      engineUrl: engine.url,
      tokenFile: engine.tokenFile('kaadmin'),
      fake,
      extra: { deadline_seconds: 4, command_timeout_seconds: 1 },
    });
    const r = await epilogue(39, cfg);
    expect(r.code).toBe(1);
    expect(r.lines[1]).toMatch(/FAILED to set the 1 nodes Absent: timed out \(killed\)/);
  });
  it('no usable configuration for the engine: nodes Absent, request spooled, exit 0', async () => {
    fake.set('oarstat', { stdout: oarstatJson({ job: 40, nodes: N(4) }) });
    const cfg = writeHooksConfig(dir, { engineUrl: engine.url, tokenFile: path.join(dir, 'no-token'), fake });
    const r = await epilogue(40, cfg);
    expect(r.code).toBe(0);
    expect(r.lines[0]).toContain(
      'engine credential unusable, engine calls skipped: no credentials: cannot read token file',
    );
    expect(fake.calls('oarnodesetting')).toHaveLength(1);
    expect(existsSync(spoolFile(path.join(dir, 'spool'), 40))).toBe(true);
  });
});
