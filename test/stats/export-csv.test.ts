import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csvField } from '../../src/stats/csv-encode.js';
import { exportStatsCsv } from '../../src/stats/export-csv.js';
import { DEFAULT_FIELDS } from '../../src/stats/fields.js';
import { parseStatsQuery, type RawStatsQuery } from '../../src/stats/query.js';
import { recordStats } from '../../src/stats/record-stats.js';
import {
  D1_KO,
  D1_OK,
  D2_KO,
  D2_OK,
  D3,
  HOSTILE_TEXTS,
  lines,
  MD5,
  P1,
  R1,
  row,
  seedKnownOperations,
  tempDb,
} from './helpers.js';

let t: ReturnType<typeof tempDb>;
beforeEach(() => {
  t = tempDb();
  seedKnownOperations(t.db);
});
afterEach(() => t.cleanup());

const csv = (raw: RawStatsQuery, site = 'orsay') =>
  text(exportStatsCsv(t.db, parseStatsQuery(raw), { site }));

describe('CSV export of known operations', () => {
  it('lists every operation in the 20-field -d format, by start then id, RFC 4180 quoted', async () => {
    expect(await csv({})).toBe(lines(D1_OK, D1_KO, D2_OK, D2_KO, R1, D3, P1));
  });

  it('keeps an error with a comma, a quote and a newline as one field', async () => {
    const out = await csv({ wid: 'D-1', fields: 'hostname,error' });
    expect(out).toBe(
      'gdx-121.orsay.grid5000.fr,\ngdx-122.orsay.grid5000.fr,"BootNewEnvClassical-wait_reboot: timeout, node unreachable\nlast ""ping"" failed"\n',
    );
  });

  it('reads from a database file path as well as from an open handle', async () => {
    expect(await text(exportStatsCsv(t.file, parseStatsQuery({ wid: 'D-2' })))).toBe(lines(D2_OK, D2_KO));
  });

  it('prints an empty answer when nothing matches', async () => {
    expect(await csv({ wid: 'D-404' })).toBe('');
  });

  it('neutralises values a spreadsheet would run as formulas, leaves numbers alone', async () => {
    recordStats(t.db, [
      row({ wid: 'F', hostname: 'n-1', start: 1, success: false, md5: '', error: '+cmd' }),
      row({ wid: 'F', hostname: 'n-2', start: 2, success: false, md5: '', error: '-1.5' }),
      row({ wid: 'F', hostname: 'n-3', start: 3, success: false, md5: '', error: '@SUM(A1)' }),
      row({ wid: 'F', hostname: 'n-4', start: 4, success: false, md5: '', error: '\tx' }),
      row({ wid: 'F', hostname: 'n-5', start: 5, success: false, md5: '', error: '-bash: no such file' }),
      row({ wid: 'F', hostname: 'n-6', start: 6, success: false, md5: '', error: '\r=1+1' }),
    ]);
    expect(await csv({ wid: 'F', fields: 'hostname,error' })).toBe(
      "n-1,'+cmd\nn-2,-1.5\nn-3,'@SUM(A1)\nn-4,'\tx\nn-5,'-bash: no such file\nn-6,\"'\r=1+1\"\n",
    );
  });
});

describe('the SQL encoding of the common case', () => {
  // The export encodes most values in SQL and hands the rest to the JavaScript encoder: both paths
  // must write what the JavaScript encoder writes, for every kind of text a field can hold.

  it('writes each tricky value of every text field as csvField does', async () => {
    // recordStats checks md5 and user, so they take a valid value; the others hold anything.
    const tricky = (v: string, i: number) =>
      row({
        wid: 'T',
        hostname: `t-${i}${v}`,
        user: v || 'u',
        env: v,
        md5: '',
        error: v,
        step1: v,
        start: 9e8 + i,
        success: false,
      });
    recordStats(t.db, HOSTILE_TEXTS.map(tricky));
    const expected = HOSTILE_TEXTS.map((v, i) => {
      const r = tricky(v, i);
      const values = DEFAULT_FIELDS.map((f) => {
        const x = r[f as keyof typeof r];
        return typeof x === 'boolean' ? String(x) : csvField(x);
      });
      return `${values.join(',')}\n`;
    }).join('');
    expect(await csv({ wid: 'T' })).toBe(expected);
  });

  it('writes values older or foreign writers left in text columns: numbers, blobs', async () => {
    const raw = (env: unknown, error: unknown, i: number) =>
      t.db
        .prepare(
          `INSERT INTO stats (wid,operation,user,hostname,step1,step2,step3,timeout_step1,timeout_step2,timeout_step3,retry_step1,retry_step2,retry_step3,start,step1_duration,step2_duration,step3_duration,env,anonymous_env,md5,success,error) VALUES ('N','deploy','u','n-${i}','a','b','c',1,2,3,0,0,0,${9e8 + i},1,2,3,?,0,'',0,?)`,
        )
        .run(env, error);
    raw(42, -1.5, 2);
    raw(1e21, 0.1, 3);
    raw(Buffer.from('=blob,x'), Buffer.from('plain'), 4);
    const out = await csv({ wid: 'N', fields: 'hostname,env,error' });
    // TEXT affinity stores numbers as SQLite's text of them; a blob stays a blob.
    expect(out).toBe(`n-2,42.0,-1.5\nn-3,1.0e+21,0.1\nn-4,"'=blob,x",plain\n`);
  });

  it('encodes the site name once, quoted when it needs it', async () => {
    expect(await csv({ wid: 'D-3', fields: 'site,hostname' }, 'a,"b"')).toBe(
      '"a,""b""",gdx-5.orsay.grid5000.fr\n',
    );
  });
});

describe('filters', () => {
  it('-m: nodes, with ranges', async () => {
    expect(await csv({ node: 'gdx-122.orsay.grid5000.fr' })).toBe(lines(D1_KO, D2_KO));
    expect(await csv({ node: ['gdx-[5,122].orsay.grid5000.fr'] })).toBe(lines(D1_KO, D2_KO, D3, P1));
  });

  it('-x / -y: start between two dates, inclusive', async () => {
    expect(await csv({ from: '1302766872' })).toBe(lines(D2_OK, D2_KO, R1, D3, P1));
    expect(await csv({ to: '1302766872' })).toBe(lines(D1_OK, D1_KO, D2_OK, D2_KO));
    expect(await csv({ from: '1302766873', to: '1302773472' })).toBe(lines(R1, D3));
    expect(await csv({ from: '2011-04-14T07:41:12Z', to: '2011-04-14T07:41:12Z' })).toBe(lines(D2_OK, D2_KO));
  });

  it('-w: one workflow', async () => {
    expect(await csv({ wid: 'D-3' })).toBe(lines(D3));
  });

  it('-o: one operation kind', async () => {
    expect(await csv({ operation: 'deploy' })).toBe(lines(D1_OK, D1_KO, D2_OK, D2_KO, D3));
    expect(await csv({ operation: 'reboot' })).toBe(lines(R1));
    expect(await csv({ operation: 'power' })).toBe(lines(P1));
  });

  it('-f / -F: chosen fields in the given order, wid, operation and site available', async () => {
    expect(await csv({ wid: 'D-1', fields: 'wid,hostname,success' })).toBe(
      'D-1,gdx-121.orsay.grid5000.fr,true\nD-1,gdx-122.orsay.grid5000.fr,false\n',
    );
    expect(
      await csv({ operation: 'power', fields: 'site,operation,start,anonymous_env,md5' }, 'rennes'),
    ).toBe('rennes,power,1302774000,false,\n');
    expect(await csv({ wid: 'D-3', fields: 'env,anonymous_env' })).toBe('my-env:1,true\n');
  });

  it('--header: the field names first', async () => {
    expect(await csv({ wid: 'D-3', fields: 'user,hostname', header: 'true' })).toBe(
      'user,hostname\nalice,gdx-5.orsay.grid5000.fr\n',
    );
  });

  it('--limit and --sort', async () => {
    expect(await csv({ limit: '2' })).toBe(lines(D1_OK, D1_KO));
    expect(await csv({ sort: 'start:desc', limit: '2' })).toBe(lines(P1, D3));
    expect(
      await csv({ operation: 'deploy', fields: 'hostname,start', sort: 'hostname:desc,start:desc' }),
    ).toBe(
      'gdx-5.orsay.grid5000.fr,1302773472\ngdx-122.orsay.grid5000.fr,1302766872\ngdx-122.orsay.grid5000.fr,1302763272\ngdx-121.orsay.grid5000.fr,1302766872\ngdx-121.orsay.grid5000.fr,1302763272\n',
    );
  });

  it('-l: the most recent row of each node, among the rows the other filters keep', async () => {
    expect(await csv({ kind: 'last' })).toBe(lines(D2_KO, R1, P1));
    expect(await csv({ kind: 'last', operation: 'deploy' })).toBe(lines(D2_OK, D2_KO, D3));
    expect(await csv({ kind: 'last', node: 'gdx-121.orsay.grid5000.fr', operation: 'deploy' })).toBe(
      lines(D2_OK),
    );
    expect(
      await csv({ kind: 'last', fields: 'site,hostname,wid', from: '1302766872', limit: '2' }, 'nancy'),
    ).toBe('nancy,gdx-122.orsay.grid5000.fr,D-2\nnancy,gdx-121.orsay.grid5000.fr,R-1\n');
  });

  it('-a: nodes that needed at least NB retries on any step, or on every step given with -s', async () => {
    expect(await csv({ kind: 'retries', min_retries: '1' })).toBe(
      '1302766872,gdx-121.orsay.grid5000.fr,2,0,1\n1302766872,gdx-122.orsay.grid5000.fr,1,0,0\n',
    );
    expect(await csv({ kind: 'retries', min_retries: '2' })).toBe(
      '1302766872,gdx-121.orsay.grid5000.fr,2,0,1\n',
    );
    expect(await csv({ kind: 'retries', min_retries: '1', step: ['3'] })).toBe(
      '1302766872,gdx-121.orsay.grid5000.fr,2,0,1\n',
    );
    expect(await csv({ kind: 'retries', min_retries: '1', step: ['1', '3'] })).toBe(
      '1302766872,gdx-121.orsay.grid5000.fr,2,0,1\n',
    );
    expect(await csv({ kind: 'retries', min_retries: '1', step: ['2'] })).toBe('');
    expect(await csv({ kind: 'retries', min_retries: '1', fields: 'wid,hostname' })).toBe(
      'D-2,gdx-121.orsay.grid5000.fr\nD-2,gdx-122.orsay.grid5000.fr\n',
    );
  });

  it('values travel as bound parameters: SQL in a filter is just a value that matches nothing', async () => {
    // parseStatsQuery refuses such a wid; here the builder is fed one directly.
    const q = { ...parseStatsQuery({}), wid: "D-1' OR '1'='1", nodes: ["x' OR 1=1 --"] };
    expect(await text(exportStatsCsv(t.db, q))).toBe('');
  });
});

describe('streaming', () => {
  it('reads rows only as the consumer asks: an unread export holds a bounded buffer', async () => {
    const many = Array.from({ length: 20_000 }, (_, i) =>
      row({ wid: 'BIG', hostname: `n-${i}`, start: 2_000_000_000 + i, md5: MD5 }),
    );
    recordStats(t.db, many);
    const s = exportStatsCsv(t.db, parseStatsQuery({ wid: 'BIG' }));
    s.pause();
    s.once('readable', () => {});
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    // 20,000 rows are ~4 MB of CSV: the stream stopped near one 64 KiB chunk plus its high-water mark.
    expect(s.readableLength).toBeLessThanOrEqual(3 * 64 * 1024);
    expect(s.readableLength).toBeGreaterThan(0);
    s.destroy();
    // Destroying released the read connection; the writer is not blocked.
    recordStats(t.db, [row({ wid: 'AFTER', hostname: 'n-x', start: 1 })]);
    expect(await csv({ wid: 'AFTER', fields: 'hostname' })).toBe('n-x\n');
  });

  it('does not lock the engine connection: rows can be recorded while an export is open', async () => {
    const s = exportStatsCsv(t.db, parseStatsQuery({}));
    const first = await new Promise<string>((resolve) =>
      s.once('data', (c: Buffer) => resolve(c.toString())),
    );
    recordStats(t.db, [row({ wid: 'DURING', hostname: 'n-y', start: 1 })]);
    s.destroy();
    expect(first.startsWith(D1_OK)).toBe(true);
    expect(await csv({ wid: 'DURING', fields: 'hostname' })).toBe('n-y\n');
  });

  it('stops when its signal is aborted', async () => {
    const ac = new AbortController();
    const s = exportStatsCsv(t.db, parseStatsQuery({}), { signal: ac.signal });
    ac.abort();
    await expect(text(s)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('reports a missing database file before streaming', () => {
    expect(() => exportStatsCsv(`${t.dir}/missing.sqlite`, parseStatsQuery({}))).toThrow(
      expect.objectContaining({ code: 'KAPLOY_DATABASE' }),
    );
  });
});
