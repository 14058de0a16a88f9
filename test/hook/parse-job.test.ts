import { describe, expect, it } from 'vitest';
import { parseJobId } from '../../src/hook/job-id.js';
import { endReason, isDeployJob, parseOarstatJson } from '../../src/hook/oar-job.js';
import { fixture, oarstatJson } from './helpers/fake-oar.js';

describe('job id argument', () => {
  it('accepts positive integers', () => {
    expect(parseJobId('1')).toBe(1);
    expect(parseJobId('123456789')).toBe(123456789);
  });
  it.each([
    [undefined, 'no OAR job id given'],
    ['', 'no OAR job id given'],
    ['abc', "invalid OAR job id 'abc'"],
    ['0', "invalid OAR job id '0'"],
    ['-3', "invalid OAR job id '-3'"],
    ['012', "invalid OAR job id '012'"],
    ['1;rm -rf /', "invalid OAR job id '1;rm -rf /'"],
    ['12 13', "invalid OAR job id '12 13'"],
    ['1\n2', "invalid OAR job id '1?2'"],
    ['9999999999999999', "invalid OAR job id '9999999999999999'"],
  ])('refuses %j', (arg, message) => {
    expect(() => parseJobId(arg)).toThrow(message);
  });
});

describe('oarstat -J -f -j ID (recorded OAR 2.5.9 output)', () => {
  it('reads a deploy job in the prologue (Launching)', () => {
    expect(parseOarstatJson(fixture('oarstat-deploy-launching.json'), 1)).toEqual({
      id: 1,
      owner: 'alice',
      state: 'Launching',
      types: ['deploy'],
      nodes: ['node-1.vsite', 'node-2.vsite'],
      resources: [1, 2],
      events: [],
    });
  });
  it('reads the job in the epilogue, and why it ended', () => {
    const fin = parseOarstatJson(fixture('oarstat-deploy-finishing.json'), 1);
    expect(fin?.state).toBe('Finishing');
    expect(endReason(fin!)).toBe('ended');
    const del = parseOarstatJson(fixture('oarstat-deploy-oardel.json'), 4);
    expect(del).toMatchObject({ owner: 'bob', state: 'Finishing', nodes: ['node-2.vsite'] });
    expect(del?.events[0]).toBe('FRAG_JOB_REQUEST');
    expect(endReason(del!)).toBe('deleted (oardel or walltime)');
    expect(parseOarstatJson(fixture('oarstat-deploy-walltime.json'), 3)?.owner).toBe('alice');
  });
  it('tells deploy jobs from others', () => {
    const job = (types: string[]) => parseOarstatJson(oarstatJson({ job: 7, types }), 7)!;
    expect(isDeployJob(job(['deploy']))).toBe(true);
    expect(isDeployJob(job(['besteffort', 'deploy=std']))).toBe(true);
    expect(isDeployJob(job([]))).toBe(false);
    expect(isDeployJob(job(['besteffort', 'deployX']))).toBe(false);
  });
  it('folds duplicate hosts (one per resource) keeping OAR order', () => {
    const j = parseOarstatJson(oarstatJson({ job: 7, nodes: ['b.s', 'b.s', 'a.s', 'a.s'] }), 7);
    expect(j?.nodes).toEqual(['b.s', 'a.s']);
  });
  it('an unknown job: OAR 2.5.9 prints nothing', () => {
    expect(parseOarstatJson('', 999)).toBeUndefined();
    expect(parseOarstatJson('\n', 999)).toBeUndefined();
    expect(parseOarstatJson('{}', 999)).toBeUndefined();
  });
  it.each([
    ['garbage', 'DBI connect failed', 'not JSON'],
    ['an array', '[1,2]', 'expected a JSON object keyed by job id'],
    ['another job', oarstatJson({ job: 8 }), 'no entry for job 7'],
    ['a wrong Job_Id', oarstatJson({ job: 8 }).replace('"8"', '"7"'), 'Job_Id is 8'],
    ['a bad owner', oarstatJson({ job: 7, owner: 'Root;x' }), "invalid owner 'Root;x'"],
    ['a bad host', oarstatJson({ job: 7, nodes: ['ok.s', 'x$(reboot)'] }), "invalid host name 'x$(reboot)'"],
    [
      'types not a list',
      JSON.stringify({ 7: { ...JSON.parse(oarstatJson({ job: 7 }))['7'], types: 'deploy' } }),
      'types is not a list',
    ],
    [
      'bad resource ids',
      JSON.stringify({ 7: { ...JSON.parse(oarstatJson({ job: 7 }))['7'], assigned_resources: [1, '2;x'] } }),
      'assigned_resources is not a list',
    ],
    ['a bad state', oarstatJson({ job: 7, state: 'Fin ishing' }), "invalid state 'Fin ishing'"],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseOarstatJson(text, 7)).toThrow(message);
  });
});
