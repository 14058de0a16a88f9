import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { routePlugins } from '../../../src/engine/main.js';
import { createEngineServices } from '../../../src/engine/operations/engine-services.js';
import { type RunningServer, startServer } from '../../../src/engine/server/start.js';
import { ADMIN, makeSite, type TestSite } from '../helpers/site.js';

/**
 * The routes every operation kind gets from one factory (/deployment, /reboot, /power): the same
 * answers and the same refusals, whatever the kind. A site without power commands: kapower3
 * --status runs and ends KO on each node, touching nothing.
 */
let site: TestSite;
let server: RunningServer;
let auth: { authorization: string };
const NODE = 'node-1.testsite';
const UUID = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  site = makeSite({ users: ['alice'], nodes: 2 });
  server = await startServer(site.config, {
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger,
    plugins: (ctx) => routePlugins(createEngineServices(ctx)),
  });
  auth = { authorization: `Bearer ${readFileSync(site.tokenFile(ADMIN), 'utf8').trim()}` };
});

afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
  server.app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });

describe('the operation routes of every kind', () => {
  it('an id of another kind, or no id, is refused (400); an unknown one is 404 on status, logs and cancel', async () => {
    for (const [base, prefix] of [
      ['deployment', 'D'],
      ['reboot', 'R'],
      ['power', 'P'],
    ] as const) {
      const other = prefix === 'D' ? 'R' : 'D';
      for (const url of [
        `/${base}/${other}-${UUID}`,
        `/${base}/${prefix}-x`,
        `/${base}/${other}-${UUID}/logs`,
      ]) {
        expect([url, (await call('GET', url)).statusCode]).toEqual([url, 400]);
      }
      expect((await call('DELETE', `/${base}/${other}-${UUID}`)).statusCode).toBe(400);
      for (const [method, url] of [
        ['GET', `/${base}/${prefix}-${UUID}`],
        ['GET', `/${base}/${prefix}-${UUID}/logs`],
        ['DELETE', `/${base}/${prefix}-${UUID}`],
      ] as const) {
        const res = await call(method, url);
        expect([url, res.statusCode, res.json().error.code]).toEqual([
          url,
          404,
          'KAPLOY_INVALID_WORKFLOW_ID',
        ]);
      }
      expect((await call('GET', `/${base}`)).json()).toEqual([]);
    }
  });

  it('log queries out of range or unknown are refused (400); dry_run is only a deployment option', async () => {
    for (const q of ['verbosity=6', 'from=-1', 'wait_ms=30001', 'debug=maybe', 'colour=1']) {
      const url = `/reboot/R-${UUID}/logs?${q}`;
      expect([url, (await call('GET', url)).statusCode]).toEqual([url, 400]);
    }
    for (const q of ['dry_run=maybe', 'other=1']) {
      const res = await call('POST', `/deployment?${q}`, { nodes: [NODE], environment: { name: 'x' } });
      expect([q, res.statusCode]).toEqual([q, 400]);
    }
  });

  it('PUT /power starts an operation: 201 {wid, discarded}, then status, logs (long poll to the end), cancel when over', async () => {
    const before = server.ctx.store.workflows.list().length;
    const res = await call('PUT', '/power', { action: 'status', nodes: [NODE] });
    expect(res.statusCode).toBe(201);
    const { wid, discarded } = res.json() as { wid: string; discarded: string[] };
    expect(wid).toMatch(/^P-[0-9a-f-]{36}$/);
    expect(discarded).toEqual([]);
    let page = { lines: [] as string[], next: 0, done: false };
    const lines: string[] = [];
    while (!page.done) {
      page = (await call('GET', `/power/${wid}/logs?from=${page.next}&wait_ms=5000`)).json();
      lines.push(...page.lines);
    }
    expect(lines[0]).toBe(`Power operation #${wid} started`);
    expect(lines.at(-1)).toBe(`Power operation #${wid} done (0/1 nodes OK)`);
    const st = (await call('GET', `/power/${wid}`)).json();
    expect(st).toMatchObject({
      wid,
      kind: 'power',
      user: ADMIN,
      status: 'done',
      outcomes: [
        { node: NODE, status: 'ko', impl: 'Status', reason: 'power_status command is not provided' },
      ],
    });
    expect((await call('DELETE', `/power/${wid}`)).json()).toEqual({ cancelled: wid });
    expect((await call('GET', `/power/${wid}`)).json().status).toBe('done');
    // --status reads only: the node's state is untouched; the operation is one workflow row.
    expect(server.ctx.store.nodes.get(NODE)?.state).toBe('prod_env');
    expect(server.ctx.store.workflows.list().length).toBe(before + 1);
    // Not the deployment's nor the reboot's.
    expect((await call('GET', `/reboot/R-${wid.slice(2)}`)).statusCode).toBe(404);
  });
});
