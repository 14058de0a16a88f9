import { describe, expect, it } from 'vitest';
import { assertHostname, expandRange, parseNodeFile } from '../../src/formats/node-names.js';

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
