import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { prefixedLines, serverPrefix } from '../../../src/client/grid/server-prefix.js';

describe('server prefix', () => {
  it('is sprintf("%-10s", "[name] ")', () => {
    expect(serverPrefix('lyon')).toBe('[lyon]    ');
    expect(serverPrefix('grenoble')).toBe('[grenoble] ');
    expect(serverPrefix('sophia-antipolis')).toBe('[sophia-antipolis] ');
  });

  it('prefixes whole lines only, and flushes a last partial line at the end', async () => {
    const sink = new PassThrough();
    let text = '';
    sink.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const w = prefixedLines(sink, '[a]       ');
    w.write('one\ntw');
    expect(text).toBe('[a]       one\n');
    w.write('o\n\nthree');
    w.end();
    await finished(w);
    expect(text).toBe('[a]       one\n[a]       two\n[a]       \n[a]       three\n');
  });
});
