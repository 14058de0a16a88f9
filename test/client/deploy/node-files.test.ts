import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OperationOutcome } from '../../../src/api/operation-status.js';
import { appendNodeFiles, checkNodeFiles } from '../../../src/client/deploy/node-files.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-node-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const out = (node: string, status: OperationOutcome['status']): OperationOutcome => ({ node, status });

describe('-o/-n files (kadeploy3, kareboot3, kapower3)', () => {
  it('appends OK and KO nodes; cancelled nodes are KO; stopped at a breakpoint in neither', () => {
    const ok = path.join(dir, 'ok');
    const ko = path.join(dir, 'ko');
    writeFileSync(ok, 'earlier\n');
    appendNodeFiles({ outputOk: ok, outputKo: ko }, [
      out('n-1', 'ok'),
      out('n-2', 'ko'),
      out('n-3', 'cancelled'),
      out('n-4', 'breakpoint'),
    ]);
    expect(readFileSync(ok, 'utf8')).toBe('earlier\nn-1\n');
    expect(readFileSync(ko, 'utf8')).toBe('n-2\nn-3\n');
  });

  it('creates both files even when empty, and only the files asked for', () => {
    const ok = path.join(dir, 'ok-empty');
    const ko = path.join(dir, 'ko-empty');
    appendNodeFiles({ outputOk: ok, outputKo: ko }, []);
    expect(readFileSync(ok, 'utf8')).toBe('');
    expect(readFileSync(ko, 'utf8')).toBe('');
    appendNodeFiles({ outputOk: path.join(dir, 'only-ok') }, [out('n-1', 'ko')]);
    expect(readFileSync(path.join(dir, 'only-ok'), 'utf8')).toBe('');
    expect(existsSync(path.join(dir, 'undefined'))).toBe(false);
  });

  it('refuses -o equal to -n', () => {
    expect(() => checkNodeFiles({ outputOk: 'x', outputKo: 'x' })).toThrow(/must name different files/);
    expect(() => checkNodeFiles({ outputOk: 'x', outputKo: 'y' })).not.toThrow();
    expect(() => checkNodeFiles({})).not.toThrow();
  });
});
