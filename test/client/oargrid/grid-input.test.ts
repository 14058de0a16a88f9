import { describe, expect, it } from 'vitest';
import { parseGridDescription } from '../../../src/client/oargrid/grid-description.js';
import { parseSubmitOptions, parseWalltime } from '../../../src/client/oargrid/grid-options.js';
import { parseGridId } from '../../../src/client/oargrid/grid-store.js';

describe('oargridsub description', () => {
  it("parses the tutorial's description as the shell hands it over (double quotes removed)", () => {
    expect(parseGridDescription(['gdx:rdef=nodes=1,paradent:rdef=nodes=1'])).toEqual([
      { alias: 'gdx', rdef: 'nodes=1' },
      { alias: 'paradent', rdef: 'nodes=1' },
    ]);
  });
  it('keeps quotes, commas and colons inside a property; strips quotes a single-quoted DESC keeps', () => {
    expect(
      parseGridDescription([`a:rdef="/nodes=2/core=1":prop="cluster IN ('x','y') AND name LIKE 'a:%'"`]),
    ).toEqual([{ alias: 'a', rdef: 'nodes=2/core=1', prop: "cluster IN ('x','y') AND name LIKE 'a:%'" }]);
  });
  it.each([
    ['', /no description/],
    ['a', /a: no rdef/],
    ['a:rdef=nodes', /malformed rdef 'nodes'/],
    ['a:rdef=nodes=0', /asks 0 of nodes; expected 1 to 100000/],
    ['a:rdef=nodes=1;rm', /malformed rdef/],
    ['a:rdef=nodes=1:walltime=2', /unknown field 'walltime'/],
    ['a:rdef=nodes=1,a:rdef=nodes=2', /alias a given twice/],
    ['-rf:rdef=nodes=1', /'-rf' is not an alias name/],
    ["a:rdef=nodes=1:prop=x='1", /unbalanced ' in/],
    ['a:rdef=nodes=1:prop=(x=1', /unbalanced parentheses/],
    ["a:rdef=nodes=1:prop=x='1'}/nodes=9{", /has '\}'/],
    ["a:rdef=nodes=1:prop=x='1'; DROP TABLE jobs", /has ';'/],
    ['a:rdef=nodes=1:prop=x=1 -- comment', /has '--'/],
    [`a:rdef=nodes=1:prop=${'x'.repeat(2000)}`, /prop longer than 1024/],
    ['a:rdef=nodes=1:prop=x=\u00e9', /not printable ASCII/],
  ])('refuses %j', (desc, why) => {
    expect(() => parseGridDescription([desc])).toThrow(why);
  });
  it('bounds the number of requests and the size of the text', () => {
    const many = Array.from({ length: 65 }, (_, i) => `a${i}:rdef=nodes=1`).join(',');
    expect(() => parseGridDescription([many])).toThrow(/65 requests; at most 64/);
    expect(() => parseGridDescription(['a'.repeat(20_000)])).toThrow(/longer than 16384/);
  });
});

describe('oargridsub options', () => {
  const now = new Date(2026, 5, 1, 12, 0, 0).getTime();
  it('walltime h[:m[:s]] as OAR reads it; default one hour', () => {
    expect(parseWalltime('03:00:00')).toBe(10_800);
    expect(parseWalltime('3')).toBe(10_800);
    expect(parseWalltime('1:30')).toBe(5400);
    expect(parseWalltime(undefined)).toBe(3600);
  });
  it.each([
    ['-w', { walltime: '3h' }, /walltime '3h' does not parse/],
    ['-w', { walltime: '1:75:00' }, /minutes and seconds go from 0 to 59/],
    ['-w', { walltime: '0:00:00' }, /expected 0:00:01 to/],
    ['-w', { walltime: '99999:00:00' }, /expected 0:00:01 to 8784:00:00/],
    ['-s', { startDate: '2026/06/02 10:00' }, /does not parse; expected "YYYY-MM-DD hh:mm:ss"/],
    ['-s', { startDate: '2026-02-30 10:00:00' }, /is not a date of the calendar/],
    ['-s', { startDate: '2026-06-01 25:00:00' }, /is not a date of the calendar/],
    ['-s', { startDate: '2026-05-01 10:00:00' }, /is in the past/],
    ['-t', { type: ['deploy', '--help'] }, /job type '--help' is not a type name/],
    ['-q', { queue: 'default; rm' }, /queue 'default; rm' is not a queue name/],
    ['-p', { program: 'a\nb' }, /must be one line/],
  ])('%s %j is refused', (_flag, flags, why) => {
    expect(() => parseSubmitOptions(flags, now)).toThrow(why);
  });
  it('a start date on this clock; -F; types', () => {
    expect(
      parseSubmitOptions({ startDate: '2026-06-02 10:00:00', force: true, type: ['deploy'] }, now),
    ).toEqual({
      types: ['deploy'],
      walltimeS: 3600,
      startMs: new Date(2026, 5, 2, 10, 0, 0).getTime(),
      keepPartial: true,
    });
  });
  it('grid ids as the tutorial passes them', () => {
    expect(parseGridId(' 12')).toBe(12);
    expect(() => parseGridId('12; rm')).toThrow(/is not a grid reservation id/);
    expect(() => parseGridId('0')).toThrow(/is not a grid reservation id/);
  });
});
