import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csvField } from '../../src/stats/csv-encode.js';
import { exportStatsCsv } from '../../src/stats/export-csv.js';
import { DEFAULT_FIELDS, type StatsField } from '../../src/stats/fields.js';
import { parseStatsQuery, type RawStatsQuery } from '../../src/stats/query.js';
import { recordStats } from '../../src/stats/record-stats.js';
import type { StatsRow } from '../../src/stats/schema.js';
import { isPageable } from '../../src/stats/sql.js';
import { HOSTILE_TEXTS, row, tempDb } from './helpers.js';

// A list export in the default order is read a page of records at a time (sql.ts, isPageable).
// These rows span several pages, with ties on start and ids out of start order, and hold every
// value that needs quoting or formula neutralisation: the export must be, byte for byte, what the
// JavaScript encoder writes for each value, in (start, id) order, on both the paged and the
// one-record-per-row path.
const ROWS = 1_100;
const BASE = 1_300_000_000;

let t: ReturnType<typeof tempDb>;
let rows: Array<StatsRow & { id: number }>;
beforeEach(() => {
  t = tempDb();
  rows = Array.from({ length: ROWS }, (_, i) => {
    const v = HOSTILE_TEXTS[i % HOSTILE_TEXTS.length] ?? '';
    const ok = i % 4 === 0;
    const r = row({
      wid: `D-${i % 37}`,
      operation: (['deploy', 'reboot', 'power'] as const)[i % 3],
      user: v === '' ? 'u' : `u${v}`,
      hostname: `n-${i % 97}${i % 5 === 0 ? v : ''}`,
      step2: v,
      env: i % 2 === 0 ? v : 'squeeze-x64-base:5',
      error: ok ? '' : v,
      success: ok,
      md5: ok ? 'd41d8cd98f00b204e9800998ecf8427e' : '',
      anonymous_env: i % 7 === 0,
      retry_step2: i % 3,
      // Ties on start, and ids (insertion order) out of start order.
      start: BASE + ((i * 7919) % 400),
      step3_duration: i,
    });
    return { ...r, id: i + 1 };
  });
  recordStats(
    t.db,
    rows.map(({ id: _, ...r }) => r),
  );
});
afterEach(() => t.cleanup());

interface Expect {
  keep?: (r: StatsRow) => boolean;
  fields?: readonly StatsField[];
  startDesc?: boolean;
  limit?: number;
  header?: boolean;
  site?: string;
}

/** The export computed here, value by value with the encoder, sorted in JavaScript. */
function expected(e: Expect = {}): string {
  const fields = e.fields ?? DEFAULT_FIELDS;
  const sorted = rows
    .filter(e.keep ?? (() => true))
    .sort((a, b) => (a.start - b.start) * (e.startDesc ? -1 : 1) || a.id - b.id)
    .slice(0, e.limit);
  const lines = sorted.map((r) => {
    const values = fields.map((f) => {
      if (f === 'site') return csvField(e.site ?? '');
      const x = r[f];
      return typeof x === 'boolean' ? String(x) : csvField(x);
    });
    return `${values.join(',')}\n`;
  });
  return (e.header ? `${fields.join(',')}\n` : '') + lines.join('');
}

const csv = (raw: RawStatsQuery, site = 'orsay') =>
  text(exportStatsCsv(t.db, parseStatsQuery(raw), { site }));

describe('paged export: byte for byte the encoder, in (start, id) order', () => {
  it('takes the paged path for the default order without node or wid filter, and only then', () => {
    expect(isPageable(parseStatsQuery({}))).toBe(true);
    expect(isPageable(parseStatsQuery({ operation: 'deploy', from: '1', to: '2', limit: '3' }))).toBe(true);
    expect(isPageable(parseStatsQuery({ kind: 'retries', min_retries: '1' }))).toBe(true);
    expect(isPageable(parseStatsQuery({ sort: 'start' }))).toBe(true);
    expect(isPageable(parseStatsQuery({ sort: 'start:desc' }))).toBe(false);
    expect(isPageable(parseStatsQuery({ sort: 'hostname' }))).toBe(false);
    expect(isPageable(parseStatsQuery({ wid: 'D-1' }))).toBe(false);
    expect(isPageable(parseStatsQuery({ node: 'n-1' }))).toBe(false);
    expect(isPageable(parseStatsQuery({ kind: 'last' }))).toBe(false);
  });

  it('every row, several pages', async () => {
    const out = await csv({});
    expect(out).toBe(expected());
    // The hostile values did reach the output quoted and neutralised.
    expect(out).toContain(`,"say ""hi""",`);
    expect(out).toContain(",'=1+1,");
    expect(out).toContain(`"'\r=1"`);
  });

  it('a limit below, at, just past and across page sizes', async () => {
    for (const limit of [1, 255, 256, 257, 512, 513, 1_099, 1_100, 5_000]) {
      expect(await csv({ limit: String(limit) })).toBe(expected({ limit }));
    }
  });

  it('filters on operation, dates and retries, with a header and the site field', async () => {
    expect(await csv({ operation: 'reboot' })).toBe(expected({ keep: (r) => r.operation === 'reboot' }));
    const from = BASE + 100;
    const to = BASE + 250;
    expect(await csv({ from: String(from), to: String(to), limit: '300' })).toBe(
      expected({ keep: (r) => r.start >= from && r.start <= to, limit: 300 }),
    );
    expect(await csv({ kind: 'retries', min_retries: '2', fields: 'start,hostname,retry_step2' })).toBe(
      expected({
        keep: (r) => r.retry_step1 >= 2 || r.retry_step2 >= 2 || r.retry_step3 >= 2,
        fields: ['start', 'hostname', 'retry_step2'],
      }),
    );
    const fields: StatsField[] = ['site', 'error', 'hostname', 'wid'];
    expect(await csv({ header: 'true', fields: fields.join(',') }, '=a,"b"')).toBe(
      expected({ header: true, fields, site: '=a,"b"' }),
    );
  });

  it('an empty answer when no row matches', async () => {
    expect(await csv({ from: String(BASE + 10_000) })).toBe('');
    expect(await csv({ header: 'true', from: String(BASE + 10_000), fields: 'hostname' })).toBe('hostname\n');
  });

  it('the one-record-per-row path writes the same bytes (node filter, descending sort)', async () => {
    const nodes = ['n-1', 'n-2', 'n-3'];
    expect(await csv({ node: nodes })).toBe(expected({ keep: (r) => nodes.includes(r.hostname) }));
    expect(await csv({ sort: 'start:desc' })).toBe(expected({ startDesc: true }));
  });

  it('is one snapshot: rows recorded while it streams are not in it', async () => {
    const s = exportStatsCsv(t.db, parseStatsQuery({}), { site: 'orsay' });
    const chunks: string[] = [];
    let recorded = false;
    for await (const c of s) {
      chunks.push(String(c));
      if (!recorded) {
        // After the first page: a row sorted last and one sorted first.
        recordStats(t.db, [
          row({ wid: 'LATE', hostname: 'late-1', start: BASE + 9_999 }),
          row({ wid: 'LATE', hostname: 'late-0', start: 1 }),
        ]);
        recorded = true;
      }
    }
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('')).toBe(expected());
    expect(await csv({ wid: 'LATE', fields: 'hostname' })).toBe('late-0\nlate-1\n');
  });
});

describe('paged export of values older or foreign writers left in text columns', () => {
  it('writes numbers and blobs as the one-record-per-row path does', async () => {
    const t2 = tempDb();
    try {
      const raw = (env: unknown, error: unknown, i: number) =>
        t2.db
          .prepare(
            `INSERT INTO stats (wid,operation,user,hostname,step1,step2,step3,timeout_step1,timeout_step2,timeout_step3,retry_step1,retry_step2,retry_step3,start,step1_duration,step2_duration,step3_duration,env,anonymous_env,md5,success,error) VALUES ('N','deploy','u','n-${i}','a','b','c',1,2,3,0,0,0,${9e8 + i},1,2,3,?,0,'',0,?)`,
          )
          .run(env, error);
      raw(42, -1.5, 2);
      raw(1e21, 0.1, 3);
      raw(Buffer.from('=blob,x'), Buffer.from('plain'), 4);
      const q = parseStatsQuery({ fields: 'hostname,env,error' });
      expect(isPageable(q)).toBe(true);
      const expectedText = `n-2,42.0,-1.5\nn-3,1.0e+21,0.1\nn-4,"'=blob,x",plain\n`;
      expect(await text(exportStatsCsv(t2.db, q))).toBe(expectedText);
      // The same rows through a node filter (one record per row).
      const byNode = parseStatsQuery({ fields: 'hostname,env,error', node: ['n-2', 'n-3', 'n-4'] });
      expect(await text(exportStatsCsv(t2.db, byNode))).toBe(expectedText);
    } finally {
      t2.cleanup();
    }
  });
});
