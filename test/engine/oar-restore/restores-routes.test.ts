import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../../src/client/http-client.js';
import { RestoresRepo } from '../../../src/engine/oar-restore/restores-repo.js';
import { startTestEngine, type TestEngine } from '../../hook/helpers/engine.js';

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
  it("a request delivered late, once a later job has the node: that job's rights stay, the node is not restored", async () => {
    const grant = (nodes: string[], job?: number) =>
      admin.request('POST', '/rights', {
        body: { user: 'alice', nodes, partitions: ['/dev/sda3'], ...(job ? { job } : {}) },
      });
    // Job 10's request was spooled (engine down); an admin put node-1 back by hand and alice's job
    // 20 got it. node-2 still has the right job 10 was given; node-3 a right given by hand.
    await grant(['node-1.vsite'], 20);
    await grant(['node-2.vsite'], 10);
    await grant(['node-3.vsite']);
    const r = await admin.request('POST', '/restores', {
      body: body(10, ['node-1.vsite', 'node-2.vsite', 'node-3.vsite']),
    });
    expect(r).toEqual({ job: 10, added: 3, revoked: 2, cancelled: [] });
    expect(engine.rightsOf('alice')).toEqual(['node-1.vsite:/dev/sda3']);
    expect(repo.list().map((x) => `${x.job} ${x.node} ${x.state} ${x.reason}`)).toEqual([
      '10 node-1.vsite superseded the node is in job 20 since',
      '10 node-2.vsite pending ',
      '10 node-3.vsite pending ',
    ]);
    // A later job's own request recorded first: the late one is superseded at once.
    await admin.request('POST', '/restores', { body: body(30, ['node-4.vsite'], 'bob') });
    await admin.request('POST', '/restores', { body: body(12, ['node-4.vsite']) });
    expect(repo.list({ job: 12 }).map((x) => x.state)).toEqual(['superseded']);
    expect(repo.list({ job: 30 }).map((x) => x.state)).toEqual(['pending']);
  });
  it("revoking for a job's end (DELETE /rights with job) leaves a later job's rights", async () => {
    await admin.request('POST', '/rights', {
      body: { user: 'alice', nodes: ['node-1.vsite', 'node-2.vsite'], partitions: ['*'], job: 40 },
    });
    // Granted again for job 41 on node-2 (same right): it now belongs to job 41.
    await admin.request('POST', '/rights', {
      body: { user: 'alice', nodes: ['node-2.vsite'], partitions: ['*'], job: 41 },
    });
    const r = await admin.request('DELETE', '/rights', {
      body: { user: 'alice', nodes: ['node-1.vsite', 'node-2.vsite'], partitions: ['*'], job: 40 },
    });
    expect(r).toEqual({ removed: 1, cancelled: [] });
    expect(engine.rightsOf('alice')).toEqual(['node-2.vsite:*']);
    expect(engine.server.ctx.store.rights.newestJobOn('node-2.vsite')).toBe(41);
  });
  it.each([0, -1, 1.5, '7x', null])(
    'refuses a grant or revocation with job %s (400), changing nothing',
    async (job) => {
      for (const method of ['POST', 'DELETE'] as const) {
        await expect(
          admin.request(method, '/rights', {
            body: { user: 'alice', nodes: ['node-1.vsite'], partitions: ['*'], job },
          }),
        ).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
      }
      expect(engine.rightsOf('alice')).toEqual([]);
    },
  );
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
