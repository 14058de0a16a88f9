import { text } from 'node:stream/consumers';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/client/http-client.js';
import { exportStatsCsv } from '../../src/stats/export-csv.js';
import { parseStatsQuery } from '../../src/stats/query.js';
import { recordStats } from '../../src/stats/record-stats.js';
import {
  appUrl,
  D1_KO,
  D1_OK,
  D2_KO,
  D2_OK,
  D3,
  lines,
  MD5,
  P1,
  R1,
  row,
  seedKnownOperations,
  statsApp,
  tempDb,
} from './helpers.js';

let t: ReturnType<typeof tempDb>;
let app: FastifyInstance;
let client: ApiClient;
beforeEach(async () => {
  t = tempDb();
  seedKnownOperations(t.db);
  app = await statsApp(t.db, 'orsay');
  client = new ApiClient({ url: appUrl(app), token: 'secret' });
});
afterEach(async () => {
  await client.close();
  await app.close();
  t.cleanup();
});

const csv = async (path: string, query: Record<string, string | string[]> = {}) =>
  text(await client.stream('GET', path, { query }));

describe('GET /stats', () => {
  it('streams the CSV with text/csv', async () => {
    const res = await request(`${appUrl(app)}/stats`, { headers: { authorization: 'Bearer secret' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(await res.body.text()).toBe(lines(D1_OK, D1_KO, D2_OK, D2_KO, R1, D3, P1));
  });

  it('takes the same filters as the library, as query parameters', async () => {
    expect(await csv('/stats', { operation: 'deploy', node: 'gdx-122.orsay.grid5000.fr' })).toBe(
      lines(D1_KO, D2_KO),
    );
    expect(
      await csv('/stats', {
        node: ['gdx-5.orsay.grid5000.fr', 'gdx-122.orsay.grid5000.fr'],
        from: '1302766872',
        to: '1302773472',
      }),
    ).toBe(lines(D2_KO, D3));
    expect(await csv('/stats', { wid: 'D-2', fields: 'wid,hostname,retry_step1' })).toBe(
      'D-2,gdx-121.orsay.grid5000.fr,2\nD-2,gdx-122.orsay.grid5000.fr,1\n',
    );
    expect(await csv('/stats', { kind: 'last', operation: 'deploy' })).toBe(lines(D2_OK, D2_KO, D3));
    expect(await csv('/stats', { kind: 'retries', min_retries: '1', step: '3' })).toBe(
      '1302766872,gdx-121.orsay.grid5000.fr,2,0,1\n',
    );
    expect(await csv('/stats', { sort: 'start:desc', limit: '1', header: 'true', fields: 'wid,start' })).toBe(
      'wid,start\nP-1,1302774000\n',
    );
  });

  it('answers the same bytes as the library export', async () => {
    const q = { operation: 'deploy', fields: 'site,wid,hostname,error' };
    expect(await csv('/stats', q)).toBe(
      await text(exportStatsCsv(t.db, parseStatsQuery(q), { site: 'orsay' })),
    );
  });

  it('/stats/deploy, /stats/reboot, /stats/power select the operation', async () => {
    expect(await csv('/stats/deploy')).toBe(lines(D1_OK, D1_KO, D2_OK, D2_KO, D3));
    expect(await csv('/stats/reboot')).toBe(lines(R1));
    expect(await csv('/stats/power', { fields: 'site,hostname,step1' })).toBe(
      'orsay,gdx-5.orsay.grid5000.fr,Off\n',
    );
  });

  it('answers failure rates as JSON', async () => {
    expect(
      await client.request('GET', '/stats', { query: { kind: 'failure-rate', operation: 'deploy' } }),
    ).toEqual({
      rates: [
        { node: 'gdx-121.orsay.grid5000.fr', rate: 0, operations: 2, failures: 0 },
        { node: 'gdx-122.orsay.grid5000.fr', rate: 100, operations: 2, failures: 2 },
        { node: 'gdx-5.orsay.grid5000.fr', rate: 100, operations: 1, failures: 1 },
      ],
    });
    expect(
      await client.request('GET', '/stats/deploy', {
        query: { kind: 'failure-rate', min_rate: '100', node: 'gdx-5.orsay.grid5000.fr' },
      }),
    ).toEqual({
      rates: [{ node: 'gdx-5.orsay.grid5000.fr', rate: 100, operations: 1, failures: 1 }],
    });
  });

  it('streams a large history without reading it whole', async () => {
    recordStats(
      t.db,
      Array.from({ length: 5000 }, (_, i) =>
        row({ wid: 'BIG', hostname: `n-${i % 50}`, start: 2_000_000_000 + i, md5: MD5 }),
      ),
    );
    const out = await csv('/stats', { wid: 'BIG', fields: 'hostname,start' });
    const ls = out.split('\n');
    expect(ls).toHaveLength(5001);
    expect(ls[0]).toBe('n-0,2000000000');
    expect(ls[4999]).toBe('n-49,2000004999');
  });
});

describe('GET /stats bad input', () => {
  const refused: Array<[string, Record<string, string | string[]>, string, string, number]> = [
    ['a malformed date', { from: '2011:04:14' }, '/stats', 'KAPLOY_OPTION', 4],
    ['an unknown field', { fields: 'user,nope' }, '/stats', 'KAPLOY_OPTION', 4],
    ['a rate out of range', { kind: 'failure-rate', min_rate: '250' }, '/stats', 'KAPLOY_OPTION', 4],
    ['conflicting options', { step: '1' }, '/stats', 'KAPLOY_CONFLICTING_OPTIONS', 13],
    [
      'an operation that contradicts the path',
      { operation: 'power' },
      '/stats/deploy',
      'KAPLOY_CONFLICTING_OPTIONS',
      13,
    ],
    ['an unknown parameter', { fileds: 'user' }, '/stats', 'KAPLOY_OPTION', 4],
    ['a parameter too long for the schema', { wid: 'x'.repeat(300) }, '/stats', 'KAPLOY_OPTION', 4],
    [
      'too many steps for the schema',
      { kind: 'retries', min_retries: '1', step: ['1', '2', '3', '1'] },
      '/stats',
      'KAPLOY_OPTION',
      4,
    ],
  ];
  it.each(refused)(
    'refuses %s with HTTP 400 and an error body',
    async (_what, query, path, code, appCode) => {
      const u = new URL(appUrl(app) + path);
      for (const [k, v] of Object.entries(query))
        for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, x);
      const res = await request(u, { headers: { authorization: 'Bearer secret' } });
      expect(res.statusCode).toBe(400);
      const body = (await res.body.json()) as { error: { code: string; appCode: number; message: string } };
      expect(body.error).toMatchObject({ code, appCode });
      expect(body.error.message.length).toBeGreaterThan(10);
    },
  );

  it('says which parameters exist when one is unknown', async () => {
    await expect(client.request('GET', '/stats', { query: { fileds: 'user' } })).rejects.toMatchObject({
      code: 'KAPLOY_OPTION',
      message:
        "unknown statistics query parameter 'fileds': known are kind, fields, node, from, to, wid, operation, min_retries, step, min_rate, limit, sort, header",
    });
  });

  it('needs authentication', async () => {
    const res = await request(`${appUrl(app)}/stats`);
    expect(res.statusCode).toBe(401);
    await res.body.dump();
  });
});
