import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/engine/store/migrations.js';
import { openStore } from '../../src/engine/store/store.js';
import { exportStatsCsv } from '../../src/stats/export-csv.js';
import { parseStatsQuery } from '../../src/stats/query.js';
import { recordStats } from '../../src/stats/record-stats.js';
import { row } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'csv-plain-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const plainFlags = (db: { prepare(s: string): { all(): unknown[] } }) =>
  db.prepare('SELECT hostname, csv_plain FROM stats ORDER BY id').all();

describe('stats rows marked plain for the CSV export (store migration 4)', () => {
  it('marks the rows a store held before the migration, and the rows written after it', async () => {
    const file = join(dir, 'kaploy.sqlite');
    // A store of the previous schema, with rows in it.
    const old = openStore(file, { migrations: MIGRATIONS.filter((m) => m.id < 4) });
    recordStats(old.db, [
      row({ hostname: 'n-1' }),
      row({ hostname: 'n-2', success: false, md5: '', error: 'tar: "x", then\nmore' }),
      row({ hostname: 'n-3', success: false, md5: '', error: '=HYPERLINK(1)' }),
    ]);
    old.close();

    const store = openStore(file);
    expect(plainFlags(store.db)).toEqual([
      { hostname: 'n-1', csv_plain: 1 },
      { hostname: 'n-2', csv_plain: 0 },
      { hostname: 'n-3', csv_plain: 0 },
    ]);
    recordStats(store.db, [
      row({ hostname: 'n-4', start: 2e9 }),
      row({ hostname: 'n-5', start: 2e9, success: false, md5: '', error: '-x' }),
    ]);
    store.db.prepare("UPDATE stats SET error = 'now, with a comma' WHERE hostname = 'n-1'").run();
    expect(plainFlags(store.db)).toEqual([
      { hostname: 'n-1', csv_plain: 0 },
      { hostname: 'n-2', csv_plain: 0 },
      { hostname: 'n-3', csv_plain: 0 },
      { hostname: 'n-4', csv_plain: 1 },
      { hostname: 'n-5', csv_plain: 0 },
    ]);
    const csv = await text(exportStatsCsv(file, parseStatsQuery({ fields: 'hostname,error' })));
    expect(csv).toBe(
      'n-1,"now, with a comma"\nn-2,"tar: ""x"", then\nmore"\nn-3,\'=HYPERLINK(1)\nn-4,\nn-5,\'-x\n',
    );
    store.close();
  });
});
