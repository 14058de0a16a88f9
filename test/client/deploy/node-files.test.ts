import { execFileSync } from 'node:child_process';
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

describe('-o/-n checked before anything starts', () => {
  it('refuses a target that cannot be written: missing directory, FIFO, device, directory', () => {
    const fifo = path.join(dir, 'out-fifo');
    execFileSync('mkfifo', [fifo]);
    const cases: [string, string][] = [
      [
        path.join(dir, 'no-such-dir', 'ok'),
        `-o ${path.join(dir, 'no-such-dir', 'ok')}: cannot write: ENOENT`,
      ],
      [fifo, `-o ${fifo}: a FIFO (named pipe), not a regular file`],
      ['/dev/zero', '-o /dev/zero: a character device, not a regular file'],
      [dir, `-o ${dir}: a directory, not a regular file`],
    ];
    for (const [file, message] of cases) {
      expect(() => checkNodeFiles({ outputOk: file }), file).toThrow(
        expect.objectContaining({ code: 'KAPLOY_FILE', message }),
      );
    }
    expect(() => checkNodeFiles({ outputKo: fifo })).toThrow(/^-n /);
  });

  it('leaves no file behind when the target did not exist; keeps an existing one unchanged', () => {
    const fresh = path.join(dir, 'fresh-ok');
    checkNodeFiles({ outputOk: fresh });
    expect(existsSync(fresh)).toBe(false);
    const kept = path.join(dir, 'kept-ok');
    writeFileSync(kept, 'earlier\n');
    checkNodeFiles({ outputOk: kept });
    expect(readFileSync(kept, 'utf8')).toBe('earlier\n');
  });

  it('after the operation, a target replaced by a FIFO is a warning, never a blocked open()', () => {
    const later = path.join(dir, 'later-fifo');
    execFileSync('mkfifo', [later]);
    const warnings: string[] = [];
    appendNodeFiles({ outputOk: later, warn: (m) => warnings.push(m) }, [out('n-1', 'ok')]);
    expect(warnings).toEqual([`-o ${later}: cannot write the nodes: ENXIO`]);
  });
});
