import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationStatus } from '../../../src/api/operation-status.js';
import { progressLine } from '../../../src/client/deploy/progress-line.js';
import { runKanodes } from '../../../src/client/nodeops/nodes.js';
import { silentLogger } from '../../../src/common/logger.js';
import { routePlugins } from '../../../src/engine/main.js';
import type { NodeOpOutcome } from '../../../src/engine/nodeops/node-op-outcome.js';
import { REBOOT } from '../../../src/engine/nodeops/nodeop-kinds.js';
import { createEngineServices, type EngineServices } from '../../../src/engine/operations/engine-services.js';
import { type RunningServer, startServer } from '../../../src/engine/server/start.js';
import { ADMIN, makeSite, type TestSite } from '../helpers/site.js';

/**
 * Admission control as the API and the clients show it, on an engine (no node reached) whose site
 * admits one operation at a time: the one slot is held by a reboot of the test, and power status
 * requests beyond it queue, with their position in GET /power/:wid, GET /operations, the progress
 * line and kanodes3 -a; DELETE takes one out of the queue.
 */
let site: TestSite;
let server: RunningServer;
let services: EngineServices;
let auth: { authorization: string };
const [N1, N2, N3] = ['node-1.testsite', 'node-2.testsite', 'node-3.testsite'];

beforeAll(async () => {
  site = makeSite({ users: ['alice'], nodes: 3, admission: { max_operations: 1 } });
  server = await startServer(site.config, {
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger,
    plugins: (ctx) => {
      services = createEngineServices(ctx);
      return routePlugins(services);
    },
  });
  auth = { authorization: `Bearer ${readFileSync(site.tokenFile(ADMIN), 'utf8').trim()}` };
});

afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

const call = (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: object) =>
  server.app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });

/** What kanodes3 -a prints. */
async function kanodesAll(): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (b: Buffer) => {
    text += b.toString();
  });
  await runKanodes(site.client(ADMIN, server.url), { mode: 'all' }, out, new AbortController().signal);
  return text;
}

describe('queued operations in the API and the clients', () => {
  it('show their position in the status, /operations, the progress line and kanodes3 -a; DELETE dequeues one', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const holding = services.operations.run<NodeOpOutcome>({
      kind: REBOOT,
      user: ADMIN,
      nodes: [N3],
      request: { kind: 'simple', nodes: [N3], impl: 'Simple' },
      env: '',
      discarded: [],
      runningState: 'rebooting',
      debug: false,
      run: async () => {
        await gate;
        return [{ node: N3, status: 'ok', step: 'Simple', retries: 0, timeoutSec: 1, durationMs: 1 }];
      },
      settle: () => ({ state: 'rebooted' }),
    });
    const first = await call('PUT', '/power', { action: 'status', nodes: [N1] });
    const second = await call('PUT', '/power', { action: 'status', nodes: [N2] });
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    const w1 = first.json().wid as string;
    const w2 = second.json().wid as string;

    const st1 = (await call('GET', `/power/${w1}`)).json() as OperationStatus;
    expect(st1).toMatchObject({
      wid: w1,
      status: 'queued',
      queuePosition: 1,
      nodes: { [N1]: { state: 'waiting' } },
    });
    expect((await call('GET', `/power/${w2}`)).json()).toMatchObject({ status: 'queued', queuePosition: 2 });
    const listed = (await call('GET', '/operations')).json() as { wid: string; queued?: number }[];
    expect(listed.map((o) => [o.wid, o.queued])).toEqual([
      [expect.stringMatching(/^R-/), undefined],
      [w1, 1],
      [w2, 2],
    ]);
    expect(progressLine(st1, 3)).toBe('[3s] 1 nodes: queued (position 1)');
    const shown = await kanodesAll();
    expect(shown).toContain(`${w1}  power  ${ADMIN}  1 node(s)  queued (position 1)\n  ${N1}: waiting\n`);
    expect(shown).toContain(`${w2}  power  ${ADMIN}  1 node(s)  queued (position 2)\n  ${N2}: waiting\n`);
    expect(shown).toMatch(/^R-\S+ {2}reboot {2}admin {2}1 node\(s\)\n/);
    const logs = (await call('GET', `/power/${w2}/logs?verbosity=0`)).json();
    expect(logs.lines).toContain(
      `Power operation #${w2} queued (position 2): 1 operation(s) with 1 node(s) in flight, the site admits 1 operations, no bound on nodes`,
    );

    expect((await call('DELETE', `/power/${w1}`)).json()).toEqual({ cancelled: w1 });
    // Its end is written by the microtasks that follow the cancel.
    await new Promise((r) => setImmediate(r));
    const cancelled = (await call('GET', `/power/${w1}`)).json() as OperationStatus;
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      outcomes: [{ node: N1, status: 'cancelled', reason: `cancelled by ${ADMIN}` }],
    });
    expect(cancelled).not.toHaveProperty('queuePosition');
    expect((await call('GET', `/power/${w2}`)).json()).toMatchObject({ status: 'queued', queuePosition: 1 });
    expect(await kanodesAll()).toContain(`${w2}  power  ${ADMIN}  1 node(s)  queued (position 1)\n`);

    open();
    await holding;
    let page = { lines: [] as string[], next: 0, done: false };
    while (!page.done) page = (await call('GET', `/power/${w2}/logs?from=${page.next}&wait_ms=5000`)).json();
    expect((await call('GET', `/power/${w2}`)).json()).toMatchObject({
      status: 'done',
      outcomes: [{ node: N2, status: 'ko', reason: 'power_status command is not provided' }],
    });
    expect(await kanodesAll()).toBe('No running operation\n');
  });
});
