import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { csvServerPrefix, prefixedLines, serverPrefix } from '../../../src/client/grid/server-prefix.js';

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

describe('CSV record prefix (kastat3 -M)', () => {
  it('adds the server name as a first field to whole records, quoted newlines inside one record', async () => {
    const sink = new PassThrough();
    let text = '';
    sink.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const w = prefixedLines(sink, csvServerPrefix('orsay'), 'csv-record');
    // A record cut mid-field, inside quotes, across two writes: nothing is written until it ends.
    w.write('n-1,false,"timeout, node\nunre');
    expect(text).toBe('');
    w.write('achable ""x"""\nn-2,true,\n');
    expect(text).toBe('orsay,n-1,false,"timeout, node\nunreachable ""x"""\norsay,n-2,true,\n');
    w.write('n-3,true,');
    w.end();
    await finished(w);
    expect(text.endsWith('orsay,n-3,true,\n')).toBe(true);
  });

  it('quotes and neutralises a server name as kastat3 writes every field', () => {
    expect(csvServerPrefix('rennes')).toBe('rennes,');
    expect(csvServerPrefix('a,b')).toBe('"a,b",');
    expect(csvServerPrefix('=cmd')).toBe("'=cmd,");
  });
});
