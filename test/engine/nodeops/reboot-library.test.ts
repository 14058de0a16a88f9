import { mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { loadSiteConfig } from '../../../src/common/site-config.js';
import { enrolUser } from '../../../src/engine/auth/enrol.js';
import { type RunningEngine, startEngine } from '../../../src/engine/main.js';
import { planReboot, REBOOT, type RebootRequest } from '../../../src/engine/nodeops/index.js';
import { OperationService } from '../../../src/engine/operations/operation-service.js';
import { type Site, startSite } from '../../e2e/helpers/virtual-site.js';

/**
 * A reboot as a library call (the OAR restore's entry point: planReboot run by the operation
 * service), in an engine started in-process over the virtual site's nodes with a cluster whose
 * very_hard reboot and console are not configured.
 */
let site: Site;
let server: RunningEngine;
let n1: string;
const caller = { name: 'tester', admin: false };

beforeAll(async () => {
  site = await startSite({ nodes: 1, site: 'nodeopslib' });
  n1 = site.nodes[0] as string;
  const base = loadSiteConfig(path.join(site.dir, 'site.yaml'));
  const config = {
    ...base,
    // Inside the site's directory: removed with the site.
    dataDir: mkdtempSync(path.join(site.dir, 'nodeops-lib-')),
    clusters: base.clusters.map((c) => {
      const { very_hard: _vh, ...reboot } = c.commands.reboot;
      const { console: _console, ...commands } = c.commands;
      return { ...c, commands: { ...commands, reboot } };
    }),
  };
  server = await startEngine(config, { port: 0, host: '127.0.0.1', logger: silentLogger });
  server.ctx.store.rights.add([{ user: 'tester', node: n1, partition: '*' }]);
}, 120_000);
afterAll(async () => {
  await server?.close();
  await site?.down();
}, 60_000);

const rebootNodes = async (
  ctx: RunningEngine['ctx'],
  who: { name: string; admin: boolean },
  req: RebootRequest,
  signal?: AbortSignal,
) => {
  const { operations, deps } = server.services;
  return operations.run(planReboot(ctx, deps, who, req), signal);
};

const statsRows = (wid: string) =>
  server.ctx.store.db
    .prepare('SELECT hostname, operation, step1, retry_step1, success, error FROM stats WHERE wid = ?')
    .all(wid);
const lastWid = () =>
  (
    server.ctx.store.db
      .prepare("SELECT wid FROM workflows WHERE kind = 'reboot' ORDER BY created DESC LIMIT 1")
      .get() as {
      wid: string;
    }
  ).wid;

describe('rebootNodes', () => {
  it('reboots and resolves with one outcome per node', async () => {
    const out = await rebootNodes(server.ctx, caller, { kind: 'simple', nodes: [n1, n1] });
    expect(out.map((o) => [o.node, o.status, o.step, o.micro])).toEqual([
      [n1, 'ok', 'Simple', 'wait_reboot'],
    ]);
    expect(server.ctx.store.nodes.get(n1)?.state).toBe('rebooted');
  });

  it('an unconfigured level fails with "<level>_reboot command is not provided", with its stats row', async () => {
    const out = await rebootNodes(server.ctx, caller, { kind: 'simple', nodes: [n1], level: 'very_hard' });
    expect(out.map((o) => [o.status, o.micro, o.reason])).toEqual([
      ['ko', 'reboot', 'very_hard_reboot command is not provided'],
    ]);
    expect(statsRows(lastWid())).toEqual([
      {
        hostname: n1,
        operation: 'reboot',
        step1: 'Simple',
        retry_step1: 0,
        success: 0,
        error: 'Simple-reboot: very_hard_reboot command is not provided',
      },
    ]);
    expect(server.ctx.store.nodes.get(n1)?.state).toBe('reboot_failed');
  });

  it('escalation that reaches an unconfigured level says so', async () => {
    const f = await site.run('kaploy', [
      'testbed',
      'fault',
      '--dir',
      site.dir,
      n1,
      'no_reboot',
      '--times',
      '2',
    ]);
    expect(f.code).toBe(0);
    const out = await rebootNodes(server.ctx, caller, {
      kind: 'simple',
      nodes: [n1],
      rebootClassicalTimeout: '1',
    });
    expect(out.map((o) => [o.status, o.micro, o.reason, o.retries])).toEqual([
      [
        'ko',
        'wait_reboot',
        'not back after a hard reboot within 1s; very_hard_reboot command is not provided',
        1,
      ],
    ]);
    // The node is dark: bring it back for the next test (the fault is used up).
    expect(
      (await rebootNodes(server.ctx, caller, { kind: 'simple', nodes: [n1], level: 'hard' }))[0]?.status,
    ).toBe('ok');
  });

  it('aborting the signal cancels the reboot: the node ends cancelled/aborted, with its stats row', async () => {
    const f = await site.run('kaploy', [
      'testbed',
      'fault',
      '--dir',
      site.dir,
      n1,
      'no_reboot',
      '--times',
      '1',
    ]);
    expect(f.code).toBe(0);
    const ac = new AbortController();
    const running = rebootNodes(server.ctx, caller, { kind: 'simple', nodes: [n1] }, ac.signal);
    // Cancel once the node is waited for (the soft reboot that consumes the fault was sent).
    const waiting = () => {
      const op = server.ctx.operations.list().find((o) => o.kind === 'reboot');
      return (
        op && server.services.operations.status(caller, REBOOT, op.wid).nodes[n1]?.micro === 'wait_reboot'
      );
    };
    while (!waiting()) await new Promise((r) => setTimeout(r, 20));
    ac.abort(new Error('test'));
    const out = await running;
    expect(out.map((o) => o.status)).toEqual(['cancelled']);
    expect(server.ctx.store.nodes.get(n1)?.state).toBe('aborted');
    expect(statsRows(lastWid())).toMatchObject([{ hostname: n1, success: 0 }]);
    expect(
      (await rebootNodes(server.ctx, caller, { kind: 'simple', nodes: [n1], level: 'hard' }))[0]?.status,
    ).toBe('ok');
  });

  it('refuses nodes without rights and checks options before touching anything', async () => {
    const bob = { name: 'bob', admin: false };
    await expect(rebootNodes(server.ctx, bob, { kind: 'simple', nodes: [n1] })).rejects.toMatchObject({
      code: 'KAPLOY_RIGHTS',
    });
    await expect(
      rebootNodes(server.ctx, caller, { kind: 'recorded_env', nodes: [n1], environment: { name: 'x' } }),
    ).rejects.toMatchObject({ code: 'KAPLOY_MISSING_OPTION' });
    await expect(
      rebootNodes(server.ctx, caller, {
        kind: 'recorded_env',
        nodes: [n1],
        environment: { name: 'nope' },
        partition: 3,
      }),
    ).rejects.toMatchObject({ code: 'KAPLOY_ENVIRONMENT' });
  });

  it('an unconfigured console is refused with a clear error', () => {
    expect(() => server.services.consoles.open(caller, n1)).toThrow(/console command is not provided/);
  });

  it('an operation a crash left unfinished ends failed at start, with node state and stats row', () => {
    const wid = 'R-00000000-0000-4000-8000-000000000001';
    server.ctx.store.workflows.insert({
      wid,
      kind: 'reboot',
      user: 'tester',
      status: 'running',
      request: { nodes: [n1], impl: 'DeployEnv' },
    });
    server.ctx.store.nodes.update(n1, { state: 'rebooting', wid });
    new OperationService(server.ctx, [REBOOT]);
    expect(server.ctx.store.workflows.get(wid)?.status).toBe('failed');
    expect(server.ctx.store.nodes.get(n1)?.state).toBe('reboot_failed');
    expect(statsRows(wid)).toEqual([
      {
        hostname: n1,
        operation: 'reboot',
        step1: 'DeployEnv',
        retry_step1: 0,
        success: 0,
        error: 'DeployEnv: the engine stopped during the reboot operation',
      },
    ]);
  });
});

describe('the API refuses malformed bodies (400) before anything runs', () => {
  it('reboot, power and console bodies that break the schemas', async () => {
    const tokenFile = path.join(server.ctx.config.dataDir, 'tester.token');
    enrolUser(server.ctx.store, { user: 'tester', site: server.ctx.config.site, out: tokenFile });
    const headers = { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` };
    const workflows = () => server.ctx.store.workflows.list().length;
    const before = workflows();
    const cases: [string, string, unknown][] = [
      ['POST', '/reboot', { kind: 'simple', nodes: [n1], extra: 1 }],
      ['POST', '/reboot', { kind: 'warm', nodes: [n1] }],
      ['POST', '/reboot', { kind: 'simple', nodes: ['node;reboot'] }],
      ['POST', '/reboot', { kind: 'simple', nodes: [] }],
      ['POST', '/reboot', { kind: 'simple', nodes: [n1], level: 'gentle' }],
      ['POST', '/reboot', { kind: 'recorded_env', nodes: [n1], environment: { name: '../x' }, partition: 3 }],
      ['POST', '/reboot', { kind: 'set_pxe', nodes: [n1], pxeProfile: 'x'.repeat(20_000) }],
      ['PUT', '/power', { action: 'reset', nodes: [n1] }],
      ['PUT', '/power', { action: 'on', nodes: ['$(reboot)'] }],
      ['POST', '/console', { node: '../../etc/passwd' }],
      ['POST', '/console', { node: n1, user: 'root' }],
      ['POST', '/console/C-00000000-0000-4000-8000-000000000000/input', { data: '!!not base64!!' }],
    ];
    for (const [method, url, payload] of cases) {
      const res = await server.app.inject({
        method: method as 'POST',
        url,
        headers,
        payload: payload as object,
      });
      expect([url, payload, res.statusCode]).toEqual([url, payload, 400]);
    }
    expect(workflows()).toBe(before);
    expect(server.services.consoles.list(caller)).toEqual([]);
  });
});
