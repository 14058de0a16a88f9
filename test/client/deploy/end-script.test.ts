import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runEndScript } from '../../../src/client/deploy/end-script.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-end-script-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  let text = '';
  const s = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { s, text: () => text };
}

async function run(file: string) {
  const out = capture();
  const err = capture();
  await runEndScript(file, { out: out.s, err: err.s });
  return { out: out.text(), err: err.text() };
}

function script(name: string, body: string, mode = 0o755): string {
  const f = path.join(dir, name);
  writeFileSync(f, `#!/bin/sh\n${body}\n`);
  chmodSync(f, mode);
  return f;
}

describe('-s FILE (runEndScript)', () => {
  it('a missing script: Running, then Fail ! exactly once', async () => {
    const f = path.join(dir, 'missing.sh');
    const r = await run(f);
    expect(r.out).toBe(`Running ${f}\nFail !\n`);
  });

  it('a file that is not executable: Fail ! exactly once', async () => {
    const f = script('not-exec.sh', 'exit 0', 0o644);
    const r = await run(f);
    expect(r.out).toBe(`Running ${f}\nFail !\n`);
  });

  it("passes the script's output through, then Success ! or Fail ! by its exit status", async () => {
    const ok = script('ok.sh', 'echo done; echo oops >&2');
    expect(await run(ok)).toEqual({ out: `Running ${ok}\ndone\nSuccess !\n`, err: 'oops\n' });
    const ko = script('ko.sh', 'exit 3');
    expect((await run(ko)).out).toBe(`Running ${ko}\nFail !\n`);
  });
});
