import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deliverSpool } from '../../src/hook/deliver-spool.js';
import { EngineHttp } from '../../src/hook/engine-http.js';
import { HookEngine } from '../../src/hook/hook-engine.js';
import { listSpooled, type SpoolEntry, writeSpooled } from '../../src/hook/spool.js';

// A stand-in engine answering POST /restores as told per job: ok, 400 (refused), 500 (failed).
let app: FastifyInstance;
let url: string;
const answers = new Map<number, number>();
const received: number[] = [];
beforeAll(async () => {
  app = Fastify();
  app.post<{ Body: { job: number } }>('/restores', async (req, reply) => {
    received.push(req.body.job);
    const status = answers.get(req.body.job) ?? 201;
    if (status >= 400)
      return reply.code(status).send({
        error: {
          code: status === 400 ? 'KAPLOY_NODE_LIST' : 'KAPLOY_INTERNAL',
          appCode: 2,
          message: `said ${status}`,
          fields: {},
        },
      });
    return reply.code(201).send({ job: req.body.job, added: 1 });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app?.close();
});

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'kaploy-deliver-')), 'spool');
  answers.clear();
  received.length = 0;
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

const entry = (job: number, over: Partial<SpoolEntry> = {}): SpoolEntry => ({
  request: { job, user: 'alice', nodes: [`n-${job}.s`] },
  created: 1,
  attempts: 0,
  nextAttemptAt: 0,
  lastError: '',
  ...over,
});
const engineAt = (u: string) => new HookEngine(new EngineHttp({ url: u, token: 'x'.repeat(20) }), 2000);
const signal = () => AbortSignal.timeout(10_000);

describe('spool delivery', () => {
  it('delivers oldest first and removes what the engine took; refused requests set aside; failed ones back off', async () => {
    for (const j of [3, 1, 2]) writeSpooled(dir, entry(j));
    answers.set(2, 400);
    answers.set(3, 500);
    const engine = engineAt(url);
    const r = await deliverSpool(dir, engine, { signal: signal(), now: () => 1_000_000 });
    await engine.close();
    expect(received).toEqual([1, 2, 3]);
    expect(r).toEqual({
      delivered: [1],
      rejected: [{ job: 2, error: 'said 400' }],
      failed: [{ job: 3, error: 'said 500' }],
      deferred: [],
    });
    const l = listSpooled(dir);
    expect(l.rejected.map((e) => [e.request.job, e.lastError])).toEqual([[2, 'said 400']]);
    expect(l.pending).toEqual([entry(3, { attempts: 1, lastError: 'said 500', nextAttemptAt: 1_005_000 })]);
  });
  it('skips requests in their backoff unless forced', async () => {
    writeSpooled(dir, entry(4, { attempts: 1, nextAttemptAt: 2_000 }));
    const engine = engineAt(url);
    expect((await deliverSpool(dir, engine, { signal: signal(), now: () => 1_000 })).deferred).toEqual([4]);
    expect(
      (await deliverSpool(dir, engine, { signal: signal(), now: () => 1_000, force: true })).delivered,
    ).toEqual([4]);
    await engine.close();
  });
  it('the engine unreachable: the first failure defers the rest, and no backoff is set (not the request fault)', async () => {
    for (const j of [5, 6]) writeSpooled(dir, entry(j));
    const engine = engineAt('http://127.0.0.1:9');
    const r = await deliverSpool(dir, engine, { signal: signal(), now: () => 7_000 });
    await engine.close();
    expect(r.failed.map((f) => f.job)).toEqual([5]);
    expect(r.deferred).toEqual([6]);
    expect(listSpooled(dir).pending.map((e) => [e.request.job, e.attempts, e.nextAttemptAt])).toEqual([
      [5, 1, 7_000],
      [6, 0, 0],
    ]);
  });
});
