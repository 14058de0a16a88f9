import { describe, expect, it } from 'vitest';
import { restorePlan, runRestorePlan } from '../../src/oar/restore-plan.js';

describe('restore plan', () => {
  it('a non-destructive last environment: reboot onto production, redeploy if it does not boot', () => {
    expect(restorePlan({ state: 'deployed', env: 'tiny:1', destructive: 0 })).toEqual({
      steps: ['reboot', 'deploy'],
      why: 'last environment tiny:1 is not destructive (state deployed): reboot onto production, redeploy it if that fails',
    });
    expect(restorePlan({ state: 'prod_env', env: '', destructive: 0 }).steps).toEqual(['reboot', 'deploy']);
    expect(restorePlan({ state: 'deploy_failed', env: 'tiny:1', destructive: false }).steps).toEqual([
      'reboot',
      'deploy',
    ]);
  });
  it('a destructive last environment, or no record: full redeployment', () => {
    expect(restorePlan({ state: 'deployed', env: 'wipe:2', destructive: 1 })).toEqual({
      steps: ['deploy'],
      why: 'last environment wipe:2 is destructive',
    });
    expect(restorePlan({ state: 'aborted', env: 'wipe:2', destructive: true }).steps).toEqual(['deploy']);
    expect(restorePlan(undefined)).toEqual({
      steps: ['deploy'],
      why: 'the engine has no record of the node',
    });
  });
  it('runs the steps in order until one succeeds', async () => {
    const calls: string[] = [];
    const runners = {
      reboot: async () => {
        calls.push('reboot');
        return { ok: false as const, reason: 'no SSH after reboot' };
      },
      deploy: async () => {
        calls.push('deploy');
        return { ok: true as const };
      },
    };
    const plan = restorePlan({ state: 'deployed', env: 'tiny:1', destructive: 0 });
    expect(await runRestorePlan(plan, runners, new AbortController().signal)).toEqual({
      ok: true,
      via: 'deploy',
    });
    expect(calls).toEqual(['reboot', 'deploy']);
  });
  it('reports every step that failed (a throw counts as a failure)', async () => {
    const runners = {
      reboot: async () => ({ ok: false as const, reason: 'timeout' }),
      deploy: async () => {
        throw new Error('broadcast failed');
      },
    };
    const plan = restorePlan({ state: 'deployed', env: 'tiny:1', destructive: 0 });
    expect(await runRestorePlan(plan, runners, new AbortController().signal)).toEqual({
      ok: false,
      reason: 'reboot: timeout; deploy: broadcast failed',
    });
  });
  it('stops when aborted', async () => {
    const ac = new AbortController();
    const runners = {
      reboot: async () => {
        ac.abort();
        return { ok: false as const, reason: 'cancelled' };
      },
      deploy: async () => ({ ok: true as const }),
    };
    expect(
      await runRestorePlan(restorePlan({ state: 'x', env: '', destructive: 0 }), runners, ac.signal),
    ).toEqual({ ok: false, reason: 'reboot: cancelled; cancelled' });
  });
});
