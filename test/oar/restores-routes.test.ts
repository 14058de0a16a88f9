import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/deploy/api/client.js';
import { RestoresRepo } from '../../src/oar/restores-repo.js';
import { startTestEngine, type TestEngine } from './helpers/engine.js';

let engine: TestEngine;
let admin: ApiClient;
let alice: ApiClient;
let repo: RestoresRepo;

beforeAll(async () => {
  engine = await startTestEngine({ nodes: 4 });
  admin = engine.client('kaadmin');
  alice = engine.client('alice');
  repo = new RestoresRepo(engine.server.ctx.store.db);
});
afterAll(async () => {
  await admin?.close();
  await alice?.close();
  await engine?.close();
});
beforeEach(() => engine.server.ctx.store.db.exec('DELETE FROM rights; DELETE FROM oar_restores;'));

const body = (job: number, nodes: string[], user = 'alice') => ({ job, user, nodes });

describe('/restores', () => {
  it('records one pending row per node, idempotent per job; the first delivery revokes the rights', async () => {
    await admin.request('POST', '/rights', {
      body: { user: 'alice', nodes: ['node-1.vsite', 'node-2.vsite'], partitions: ['/dev/sda3'] },
    });
    const changes = engine.changes;
    const first = await admin.request('POST', '/restores', {
      body: body(5, ['node-1.vsite', 'node-2.vsite', 'node-2.vsite']),
    });
    expect(first).toEqual({ job: 5, added: 2, revoked: 2, cancelled: [] });
    expect(engine.rightsOf('alice')).toEqual([]);
    expect(engine.changes).toBe(changes + 1);
    // Alice gets rights again in a later job: a late re-delivery of job 5 must not take them.
    await admin.request('POST', '/rights', {
      body: { user: 'alice', nodes: ['node-1.vsite'], partitions: ['/dev/sda3'] },
    });
    expect(
      await admin.request('POST', '/restores', { body: body(5, ['node-1.vsite', 'node-2.vsite']) }),
    ).toEqual({ job: 5, added: 0, revoked: 0, cancelled: [] });
    expect(engine.rightsOf('alice')).toEqual(['node-1.vsite:/dev/sda3']);
    expect(engine.changes).toBe(changes + 1);
    const { restores } = await admin.request<{
      restores: { job: number; node: string; state: string; production: string }[];
    }>('GET', '/restores');
    expect(restores.map((r) => [r.job, r.node, r.state, r.production])).toEqual([
      [5, 'node-1.vsite', 'pending', 'prod-env'],
      [5, 'node-2.vsite', 'pending', 'prod-env'],
    ]);
  });
  it('uses the production named in the request, else the site one', async () => {
    await admin.request('POST', '/restores', {
      body: { ...body(6, ['node-3.vsite']), production: 'debian12-std' },
    });
    await admin.request('POST', '/restores', { body: { ...body(7, ['node-4.vsite']), production: '' } });
    expect(repo.list().map((r) => r.production)).toEqual(['debian12-std', 'prod-env']);
  });
  it("a later job's request supersedes an unfinished one on the same node", async () => {
    await admin.request('POST', '/restores', { body: body(8, ['node-1.vsite', 'node-2.vsite']) });
    await admin.request('POST', '/restores', { body: body(9, ['node-2.vsite'], 'bob') });
    expect(repo.list().map((r) => `${r.job} ${r.node} ${r.state}`)).toEqual([
      '8 node-1.vsite pending',
      '8 node-2.vsite superseded',
      '9 node-2.vsite pending',
    ]);
  });
  it('filters by state and job; retry sets failed restores pending again', async () => {
    await admin.request('POST', '/restores', { body: body(10, ['node-1.vsite', 'node-2.vsite']) });
    await admin.request('POST', '/restores', { body: body(11, ['node-3.vsite']) });
    for (const [job, node] of [
      [10, 'node-2.vsite'],
      [11, 'node-3.vsite'],
    ] as const) {
      repo.claim(job, node, 1);
      repo.finish(job, node, 'failed', 'no SSH in production', 2);
    }
    const failed = await admin.request<{ restores: { node: string; reason: string }[] }>('GET', '/restores', {
      query: { state: 'failed' },
    });
    expect(failed.restores.map((r) => [r.node, r.reason])).toEqual([
      ['node-2.vsite', 'no SSH in production'],
      ['node-3.vsite', 'no SSH in production'],
    ]);
    expect(
      (await admin.request<{ restores: unknown[] }>('GET', '/restores', { query: { job: 11 } })).restores,
    ).toHaveLength(1);
    expect(await admin.request('POST', '/restores/retry', { body: { job: 10 } })).toEqual({ retried: 1 });
    expect(await admin.request('POST', '/restores/retry', { body: {} })).toEqual({ retried: 1 });
    expect(repo.list({ state: 'failed' })).toEqual([]);
    expect(repo.list({ state: 'pending' }).map((r) => [r.node, r.attempts])).toEqual([
      ['node-1.vsite', 0],
      ['node-2.vsite', 0],
      ['node-3.vsite', 0],
    ]);
  });
  it('is for admins only', async () => {
    await expect(
      alice.request('POST', '/restores', { body: body(12, ['node-1.vsite']) }),
    ).rejects.toMatchObject({ code: 'KAPLOY_RIGHTS' });
    await expect(alice.request('GET', '/restores')).rejects.toMatchObject({ code: 'KAPLOY_RIGHTS' });
    await expect(alice.request('POST', '/restores/retry', { body: {} })).rejects.toMatchObject({
      code: 'KAPLOY_RIGHTS',
    });
    expect(repo.list()).toEqual([]);
  });
  it.each([
    ['a job id of 0', { job: 0, user: 'alice', nodes: ['node-1.vsite'] }],
    ['a job id that is not a number', { job: '12abc', user: 'alice', nodes: ['node-1.vsite'] }],
    ['no node', { job: 12, user: 'alice', nodes: [] }],
    ['a bad node name', { job: 12, user: 'alice', nodes: ['node-1.vsite;reboot'] }],
    ['a bad user', { job: 12, user: 'Alice Smith', nodes: ['node-1.vsite'] }],
    ['an unknown field', { job: 12, user: 'alice', nodes: ['node-1.vsite'], force: true }],
    ['a bad production name', { job: 12, user: 'alice', nodes: ['node-1.vsite'], production: '../x' }],
  ])('refuses %s (400, nothing recorded)', async (_what, b) => {
    await expect(admin.request('POST', '/restores', { body: b })).rejects.toMatchObject({
      code: 'KAPLOY_OPTION',
    });
    expect(repo.list()).toEqual([]);
  });
  it.each([
    ['an unknown state', { state: 'lost' }],
    ['a bad job', { job: 'x' }],
  ])('GET refuses %s', async (_what, query) => {
    await expect(admin.request('GET', '/restores', { query })).rejects.toMatchObject({
      code: 'KAPLOY_OPTION',
    });
  });
});
