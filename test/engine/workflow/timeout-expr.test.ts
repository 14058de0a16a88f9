import { describe, expect, it } from 'vitest';
import { evalTimeout, parseTimeoutExpr, timeoutMs } from '../../../src/engine/workflow/timeout-expr.js';

describe('evalTimeout', () => {
  it.each([
    ['200+150*log(n)', 1, 200],
    ['200+150*log(n)', Math.E ** 2, 500],
    ['120', 50, 120],
    ['2*n+10', 5, 20],
    ['(1+2)*3', 1, 9],
    ['2^3^2', 1, 512],
    ['2**10', 1, 1024],
    ['-2+10', 1, 8],
    ['10/4', 1, 2.5],
    ['log2(n)*10', 8, 30],
    ['log10(n)', 1000, 3],
    ['sqrt(n)', 16, 4],
    ['ceil(n/3)', 10, 4],
    ['floor(n/3)', 10, 3],
    ['min(300, 10*n)', 50, 300],
    ['max(60, 10*n, 5)', 3, 60],
    [' 60 + 2 * n ', 10, 80],
    ['1.5*n', 2, 3],
  ])('%s for n=%d is %d', (expr, n, want) => {
    expect(evalTimeout(expr, n)).toBeCloseTo(want, 9);
  });

  it('uses the natural logarithm, as Ruby Math.log', () => {
    expect(evalTimeout('log(n)', 10)).toBe(Math.log(10));
  });

  it('parses once and evaluates for many node counts', () => {
    const e = parseTimeoutExpr('100+n');
    expect([1, 10, 100].map((n) => e.evaluate(n))).toEqual([101, 110, 200]);
    expect(timeoutMs('0.0015', 1)).toBe(2);
  });

  it.each([
    ['200+*n', "Invalid timeout expression '200+*n': unexpected '*' at position 5"],
    ['200+150*log(n', "Invalid timeout expression '200+150*log(n': expected ')' at position 14"],
    [
      'system(1)',
      "Invalid timeout expression 'system(1)': unknown name 'system' (allowed: n, log, log2, log10, sqrt, ceil, floor, min, max) at position 1",
    ],
    ['n; rm -rf /', "Invalid timeout expression 'n; rm -rf /': unexpected character ';' at position 2"],
    ['', "Invalid timeout expression '': empty expression at position 1"],
    ['2 3', "Invalid timeout expression '2 3': unexpected '3' at position 3"],
    ['sqrt(1,2)', "Invalid timeout expression 'sqrt(1,2)': sqrt takes 1 argument(s) at position 1"],
    ['n+', "Invalid timeout expression 'n+': unexpected end at position 3"],
  ])('rejects %j naming the expression and position', (expr, message) => {
    expect(() => evalTimeout(expr, 1)).toThrow(message);
    try {
      evalTimeout(expr, 1);
    } catch (e) {
      expect(e).toMatchObject({ code: 'KAPLOY_OPTION', fields: { key: expr } });
    }
  });

  it('rejects values that are not a finite number of seconds >= 0', () => {
    expect(() => evalTimeout('log(n)', 0)).toThrow(
      "Timeout expression 'log(n)' gives -Infinity for n=0: a timeout must be a finite number of seconds >= 0",
    );
    expect(() => evalTimeout('10-n', 20)).toThrow('gives -10 for n=20');
    expect(() => evalTimeout('1/(n-1)', 1)).toThrow('gives Infinity for n=1');
  });
});
