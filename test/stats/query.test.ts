import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kastatQuery } from '../../src/client/stats/kastat-flags.js';
import { parseStatsDate } from '../../src/stats/dates.js';
import { parseStatsQuery } from '../../src/stats/query.js';

let tz: string | undefined;
beforeEach(() => {
  tz = process.env.TZ;
  process.env.TZ = 'Europe/Paris';
});
afterEach(() => {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
});

describe('dates', () => {
  it('reads yyyy:mm:dd:hh:mm:ss as local time (the tutorial date +%Y:%m:%d:%H:%M:%S)', () => {
    // 08:41:12 in Paris (CEST, UTC+2) is the start of the tutorial's sample row.
    expect(parseStatsDate('2011:04:14:08:41:12')).toBe(1302763272);
    // In winter (CET, UTC+1) the same wall-clock shift is one hour.
    expect(parseStatsDate('2011:01:14:07:41:12')).toBe(1294987272);
  });

  it('reads ISO 8601 (local without a zone, UTC with Z, or an offset), and epoch seconds', () => {
    expect(parseStatsDate('2011-04-14T08:41:12')).toBe(1302763272);
    expect(parseStatsDate('2011-04-14T06:41:12Z')).toBe(1302763272);
    expect(parseStatsDate('2011-04-14T06:41:12.250Z')).toBe(1302763272);
    expect(parseStatsDate('2011-04-14T10:41:12+04:00')).toBe(1302763272);
    expect(parseStatsDate('2011-04-14T01:41:12-0500')).toBe(1302763272);
    expect(parseStatsDate('2011-04-14 08:41')).toBe(1302763260);
    expect(parseStatsDate('2011-04-14')).toBe(1302732000);
    expect(parseStatsDate('1302763272')).toBe(1302763272);
  });

  it.each([
    ['2011-4-14'],
    ['14/04/2011'],
    ['2011:04:14'],
    ['2011:04:14:08:41'],
    ['2011:13:01:00:00:00'],
    ['2011:02:30:00:00:00'],
    ['2011:04:14:24:00:00'],
    ['2011:04:14:08:60:00'],
    ['2011-04-14T08:41:12+25:00'],
    ['yesterday'],
    [''],
  ])('refuses %j and says the expected formats', (d) => {
    expect(() => parseStatsDate(d, 'start date (-x)')).toThrow(
      expect.objectContaining({
        code: 'KAPLOY_OPTION',
        message: `invalid start date (-x) '${d}': expected yyyy:mm:dd:hh:mm:ss (local time), ISO 8601 (2011-04-14T08:41:12, 2011-04-14T08:41:12Z, 2011-04-14) or epoch seconds`,
      }),
    );
  });
});

describe('parseStatsQuery', () => {
  it('defaults: every row, the 20 -d fields, by start', () => {
    expect(parseStatsQuery({})).toEqual({
      kind: 'list',
      fields: [
        'user',
        'hostname',
        'step1',
        'step2',
        'step3',
        'timeout_step1',
        'timeout_step2',
        'timeout_step3',
        'retry_step1',
        'retry_step2',
        'retry_step3',
        'start',
        'step1_duration',
        'step2_duration',
        'step3_duration',
        'env',
        'anonymous_env',
        'md5',
        'success',
        'error',
      ],
      nodes: [],
      steps: [],
      sort: [],
      header: false,
    });
  });

  it('the retries listing defaults to start,hostname,retry_step1..3', () => {
    expect(parseStatsQuery({ kind: 'retries', min_retries: '2', step: ['3', '1', '3'] })).toMatchObject({
      fields: ['start', 'hostname', 'retry_step1', 'retry_step2', 'retry_step3'],
      minRetries: 2,
      steps: [1, 3],
    });
  });

  const bad: Array<[string, Parameters<typeof parseStatsQuery>[0], string, string]> = [
    [
      'unknown field',
      { fields: 'user,hostnme' },
      'KAPLOY_OPTION',
      "unknown field 'hostnme': valid fields are site,wid,operation,user,hostname,step1,step2,step3,timeout_step1,timeout_step2,timeout_step3,retry_step1,retry_step2,retry_step3,start,step1_duration,step2_duration,step3_duration,env,anonymous_env,md5,success,error",
    ],
    ['empty field list', { fields: ',' }, 'KAPLOY_OPTION', 'empty field list'],
    [
      'unknown kind',
      { kind: 'all' },
      'KAPLOY_OPTION',
      "invalid kind 'all': expected list, last, retries, failure-rate",
    ],
    [
      'unknown operation',
      { operation: 'kexec' },
      'KAPLOY_OPTION',
      "invalid operation 'kexec': expected deploy, reboot, power",
    ],
    [
      'rate above 100',
      { kind: 'failure-rate', min_rate: '101' },
      'KAPLOY_OPTION',
      "invalid minimum failure rate '101': expected a number from 0 to 100",
    ],
    [
      'negative rate',
      { kind: 'failure-rate', min_rate: '-1' },
      'KAPLOY_OPTION',
      "invalid minimum failure rate '-1': expected a number from 0 to 100",
    ],
    [
      'rate not a number',
      { kind: 'failure-rate', min_rate: 'ten' },
      'KAPLOY_OPTION',
      "invalid minimum failure rate 'ten': expected a number from 0 to 100",
    ],
    [
      'negative retries',
      { kind: 'retries', min_retries: '-2' },
      'KAPLOY_OPTION',
      "invalid minimum number of retries (-a) '-2': expected a whole number >= 0",
    ],
    [
      'retries without a minimum',
      { kind: 'retries' },
      'KAPLOY_MISSING_OPTION',
      'the retries listing needs a minimum number of retries (-a NB)',
    ],
    [
      'step 4',
      { kind: 'retries', min_retries: '1', step: ['4'] },
      'KAPLOY_OPTION',
      "invalid step '4': expected 1, 2 or 3",
    ],
    [
      'step without -a',
      { step: ['1'] },
      'KAPLOY_CONFLICTING_OPTIONS',
      '-s/--step applies the retry filter: use it with -a NB',
    ],
    [
      'min retries on a list',
      { min_retries: '1' },
      'KAPLOY_CONFLICTING_OPTIONS',
      'a minimum number of retries (-a) only applies to the retries listing',
    ],
    [
      'min rate on a list',
      { min_rate: '10' },
      'KAPLOY_CONFLICTING_OPTIONS',
      'a minimum failure rate (-c) only applies to the failure-rate listing',
    ],
    [
      'fields with rates',
      { kind: 'failure-rate', fields: 'hostname' },
      'KAPLOY_CONFLICTING_OPTIONS',
      'fields (-f/-F) cannot be chosen for failure rates (-b/-c)',
    ],
    [
      'sort with rates',
      { kind: 'failure-rate', sort: 'start' },
      'KAPLOY_CONFLICTING_OPTIONS',
      '--sort does not apply to failure rates (-b/-c), which are listed by node',
    ],
    [
      'limit with rates',
      { kind: 'failure-rate', limit: '3' },
      'KAPLOY_CONFLICTING_OPTIONS',
      '--limit does not apply to failure rates (-b/-c)',
    ],
    [
      'dates reversed',
      { from: '2011-04-15', to: '2011-04-14' },
      'KAPLOY_CONFLICTING_OPTIONS',
      'the start date (-x 2011-04-15) is after the end date (-y 2011-04-14)',
    ],
    ['zero limit', { limit: '0' }, 'KAPLOY_OPTION', "invalid limit '0': expected a whole number >= 1"],
    [
      'bad sort field',
      { sort: 'speed' },
      'KAPLOY_OPTION',
      "unknown field 'speed': valid fields are site,wid,operation,user,hostname,step1,step2,step3,timeout_step1,timeout_step2,timeout_step3,retry_step1,retry_step2,retry_step3,start,step1_duration,step2_duration,step3_duration,env,anonymous_env,md5,success,error",
    ],
    [
      'bad sort order',
      { sort: 'start:up' },
      'KAPLOY_OPTION',
      "invalid sort key 'start:up': expected FIELD or FIELD:asc or FIELD:desc",
    ],
    [
      'bad workflow id',
      { wid: 'D-1;rm' },
      'KAPLOY_OPTION',
      "invalid workflow id 'D-1;rm': expected letters, digits, '-', '_', '.' or ':'",
    ],
    ['bad node name', { node: 'node 1' }, 'KAPLOY_NODE_LIST', "invalid node name or range 'node 1'"],
    ['bad header', { header: 'yes' }, 'KAPLOY_OPTION', "invalid header 'yes': expected true or false"],
  ];
  it.each(bad)('refuses %s', (_what, raw, code, message) => {
    expect(() => parseStatsQuery(raw)).toThrow(expect.objectContaining({ code, message }));
  });
});

describe('kastat3 flags', () => {
  it('maps the tutorial line (-x DATE -d) to deployments since that local date', () => {
    expect(kastatQuery({ dateMin: '2011:04:14:08:41:12', listAll: true }).raw).toEqual({
      kind: 'list',
      from: '1302763272',
      operation: 'deploy',
    });
  });

  it('maps every option', () => {
    expect(
      kastatQuery({
        listMinRetries: '2',
        step: ['1'],
        field: ['hostname'],
        fields: 'wid,start',
        machine: ['gdx-[1-2].site'],
        workflowId: 'D-7',
        dateMax: '2011-04-14T06:41:12Z',
        operation: 'all',
        limit: '5',
        sort: 'start:desc',
        header: true,
      }).raw,
    ).toEqual({
      kind: 'retries',
      min_retries: '2',
      step: ['1'],
      fields: 'hostname,wid,start',
      node: ['gdx-[1-2].site'],
      wid: 'D-7',
      to: '1302763272',
      limit: '5',
      sort: 'start:desc',
      header: 'true',
    });
    expect(
      kastatQuery({ listFailureRate: true, listMinFailureRate: '12.5', operation: 'reboot' }).raw,
    ).toEqual({
      kind: 'failure-rate',
      min_rate: '12.5',
      operation: 'reboot',
    });
    expect(kastatQuery({ last: true }).query.kind).toBe('last');
    expect(kastatQuery({ workflowId: 'R-1' }).raw).toEqual({ kind: 'list', wid: 'R-1' });
    expect(kastatQuery({ workflowId: 'R-1', operation: 'deploy' }).raw).toEqual({
      kind: 'list',
      wid: 'R-1',
      operation: 'deploy',
    });
  });

  it.each([
    [{ listAll: true, last: true }, '-d/--list-all, -l/--last'],
    [{ listAll: true, listFailureRate: true }, '-d/--list-all, -b/--list-failure-rate'],
    [{ last: true, listMinRetries: '1' }, '-l/--last, -a/--list-min-retries'],
    [{ listMinRetries: '1', listMinFailureRate: '5' }, '-a/--list-min-retries, -c/--list-min-failure-rate'],
  ])('refuses conflicting listings %j', (flags, which) => {
    expect(() => kastatQuery(flags)).toThrow(
      expect.objectContaining({
        code: 'KAPLOY_CONFLICTING_OPTIONS',
        message: `choose one listing: ${which} cannot be combined`,
      }),
    );
  });

  it('refuses an empty -F and a bad -x before contacting a server', () => {
    expect(() => kastatQuery({ fields: '' })).toThrow(
      expect.objectContaining({ code: 'KAPLOY_OPTION', message: '-F/--fields: empty field list' }),
    );
    expect(() => kastatQuery({ dateMin: '2011:04:14' })).toThrow(
      expect.objectContaining({ code: 'KAPLOY_OPTION' }),
    );
    expect(() => kastatQuery({ operation: 'kexec' })).toThrow(
      expect.objectContaining({ code: 'KAPLOY_OPTION' }),
    );
  });
});
