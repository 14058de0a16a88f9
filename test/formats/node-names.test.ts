import { describe, expect, it } from 'vitest';
import { assertHostname, expandRange, MAX_NODES, parseNodeFile } from '../../src/formats/node-names.js';

describe('node names', () => {
  it('expands ranges with lists and padding', () => {
    expect(expandRange('gdx-[5-7,10].orsay')).toEqual([
      'gdx-5.orsay',
      'gdx-6.orsay',
      'gdx-7.orsay',
      'gdx-10.orsay',
    ]);
    expect(expandRange('n-[08-10]')).toEqual(['n-08', 'n-09', 'n-10']);
    expect(expandRange('127.1.[0-1].[1-2]')).toEqual(['127.1.0.1', '127.1.0.2', '127.1.1.1', '127.1.1.2']);
    expect(expandRange('plain.site')).toEqual(['plain.site']);
  });

  it('refuses shell and path characters and bad ranges', () => {
    for (const bad of ['a;rm -rf /', 'a/../b', '$(id)', 'a b', '', 'n-[3-1]', 'n-[x]', '../etc']) {
      expect(() => expandRange(bad), bad).toThrow(/invalid/);
    }
    expect(() => assertHostname('-leading')).toThrow(/invalid node name/);
  });

  it('parses an OAR node file: repeated per core, comments, blanks, duplicates folded in order', () => {
    const text = 'n-2.s\nn-2.s\nn-1.s\n\n# comment\nn-2.s\nn-3.s\n';
    expect(parseNodeFile(text)).toEqual(['n-2.s', 'n-1.s', 'n-3.s']);
  });

  it('reports the line of a bad entry', () => {
    expect(() => parseNodeFile('ok.s\nbad;name\n', 'f.txt')).toThrow(/f\.txt:2/);
  });
});

describe('node names: every expansion bounded before it is done', () => {
  it('refuses a range naming 10^9 nodes by counting (building them ran out of memory)', () => {
    expect(() => expandRange('a[1-1000]b[1-1000]c[1-1000]')).toThrow(
      "node range 'a[1-1000]b[1-1000]c[1-1000]' names 1,000,000,000 nodes, more than the 100,000 allowed",
    );
  });

  it('refuses node-[1-1000]x[1-1000] as a node-list error, not a stack overflow', () => {
    expect(() => expandRange('node-[1-1000]x[1-1000]')).toThrow(
      expect.objectContaining({
        code: 'KAPLOY_NODE_LIST',
        message: expect.stringContaining('1,000,000 nodes'),
      }),
    );
  });

  it('expands exactly MAX_NODES names, and a caller can give a smaller budget', () => {
    const names = expandRange('n-[1-100][1-1000]');
    expect(names).toHaveLength(MAX_NODES);
    expect(names[0]).toBe('n-11');
    expect(() => expandRange('n-[1-10]', 9)).toThrow(/names 10 nodes, more than the 9 allowed/);
  });

  it('refuses a 470,000-name node file at the line that passes the limit', () => {
    const text = Array.from({ length: 470_000 }, (_, i) => `node-${i}.site\n`).join('');
    expect(() => parseNodeFile(text, 'big')).toThrow(
      expect.objectContaining({
        code: 'KAPLOY_NODE_LIST',
        message: 'big:100001: more than 100,000 nodes in the node file',
      }),
    );
    // Lines repeated per core, as OAR writes them, are folded and do not count.
    const cores = Array.from({ length: 200_000 }, (_, i) => `node-${i % 1000}.site\n`).join('');
    expect(parseNodeFile(cores)).toHaveLength(1000);
  });

  it('refuses over-long specs and numbers', () => {
    expect(() => expandRange(`n-[1-2]${'a'.repeat(2000)}`)).toThrow(/invalid node name or range/);
    expect(() => expandRange('n-[1-99999999999]')).toThrow(/bad range/);
  });
});
