import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  listSpooled,
  markRejected,
  readSpoolEntry,
  removeSpooled,
  type SpoolEntry,
  spoolFile,
  writeSpooled,
} from '../../src/hook/spool.js';
import { spoolRetryDelayMs } from '../../src/hook/spool-backoff.js';

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'kaploy-spool-')), 'spool');
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

const entry = (job: number, nodes = ['n-1.s', 'n-2.s']): SpoolEntry => ({
  request: { job, user: 'alice', nodes },
  created: 1000,
  attempts: 0,
  nextAttemptAt: 0,
  lastError: '',
});

describe('restore request spool', () => {
  it('writes one file per job (mode 600, directory 700), atomically: no temporary left', () => {
    writeSpooled(dir, entry(12));
    expect(readdirSync(dir)).toEqual(['job-12.json']);
    expect(readSpoolEntry(spoolFile(dir, 12))).toEqual(entry(12));
    expect((readFileSync(spoolFile(dir, 12), 'utf8').match(/\n/g) ?? []).length).toBe(1);
    expect(statSync(spoolFile(dir, 12)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
  it('rewriting a job replaces its file (attempts, backoff, error)', () => {
    writeSpooled(dir, entry(12));
    writeSpooled(dir, { ...entry(12), attempts: 2, nextAttemptAt: 5000, lastError: 'ECONNREFUSED' });
    expect(listSpooled(dir).pending).toEqual([
      { ...entry(12), attempts: 2, nextAttemptAt: 5000, lastError: 'ECONNREFUSED' },
    ]);
  });
  it('lists oldest job first; rejected and unreadable files apart; others ignored', () => {
    writeSpooled(dir, entry(100));
    writeSpooled(dir, entry(9));
    writeSpooled(dir, entry(50));
    markRejected(dir, entry(50), 'unknown node(s)');
    writeFileSync(
      path.join(dir, 'job-7.json'),
      '{"request": {"job": 7, "user": "alice", "nodes": ["bad;name"]}}',
    );
    writeFileSync(path.join(dir, 'job-8.json'), 'half a fi');
    writeFileSync(path.join(dir, '.job-3.json.99.tmp'), '{}');
    writeFileSync(path.join(dir, 'notes.txt'), 'x');
    const l = listSpooled(dir);
    expect(l.pending.map((e) => e.request.job)).toEqual([9, 100]);
    expect(l.rejected).toEqual([{ ...entry(50), lastError: 'unknown node(s)' }]);
    expect(l.unreadable.map((u) => [path.basename(u.file), u.error.replace(/^.*: /, '')])).toEqual([
      ['job-7.json', 'nodes is not a non-empty list of host names'],
      ['job-8.json', expect.stringMatching(/JSON/)],
    ]);
  });
  it('a missing directory is an empty spool; remove is idempotent', () => {
    expect(listSpooled(dir)).toEqual({ pending: [], rejected: [], unreadable: [] });
    removeSpooled(dir, 5);
    writeSpooled(dir, entry(5));
    removeSpooled(dir, 5);
    expect(existsSync(spoolFile(dir, 5))).toBe(false);
  });
  it('an unwritable directory is a clear error', () => {
    writeSpooled(dir, entry(1));
    chmodSync(dir, 0o500);
    try {
      if (process.getuid?.() === 0) return; // root writes anyway
      expect(() => writeSpooled(dir, entry(2))).toThrow(
        `cannot write the restore request ${spoolFile(dir, 2)}`,
      );
    } finally {
      chmodSync(dir, 0o700);
    }
  });
  it('an unwritable location is a clear error (even as root)', () => {
    writeFileSync(path.join(path.dirname(dir), 'file'), 'x');
    expect(() => writeSpooled(path.join(path.dirname(dir), 'file', 'spool'), entry(2))).toThrow(
      'cannot create the spool directory',
    );
  });
  it('retries back off: 5 s, doubling, at most 10 min', () => {
    expect([0, 1, 2, 3, 4, 8, 50].map(spoolRetryDelayMs)).toEqual([
      0, 5000, 10000, 20000, 40000, 600000, 600000,
    ]);
  });
});
