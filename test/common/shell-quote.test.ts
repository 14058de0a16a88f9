import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellJoin, shq } from '../../src/common/shell-quote.js';

describe('shell quoting', () => {
  it('round-trips hostile words through a real sh', () => {
    const words = ["it's", '$(touch /tmp/pwned)', '`id`', 'a b', '"q"', '\\', '*', '; rm -rf /', '', 'plain'];
    const out = execFileSync('sh', ['-c', `printf '%s\\n' ${shellJoin(words)}`], { encoding: 'utf8' });
    expect(out.split('\n').slice(0, -1)).toEqual(words);
  });
  it('leaves safe words bare and refuses NUL', () => {
    expect(shq('/dev/sda3')).toBe('/dev/sda3');
    expect(() => shq('a\0b')).toThrow(/NUL/);
  });
});
