import { describe, expect, it } from 'vitest';
import {
  type GroupStepRunner,
  type RestorePlan,
  type RestoreResult,
  restorePlan,
  runGroupRestorePlan,
  type StepOutcome,
} from '../../../src/engine/oar-restore/restore-plan.js';

type StepRunner = (signal: AbortSignal) => Promise<StepOutcome>;

/** One node's plan through the group runner (a group of one). */
async function runRestorePlan(
  plan: RestorePlan,
  runners: Record<'reboot' | 'deploy', StepRunner>,
  signal: AbortSignal,
): Promise<RestoreResult> {
  const one =
    (run: StepRunner): GroupStepRunner =>
    async (nodes, sig) =>
      new Map([[nodes[0] as string, await run(sig)]]);
  let result: RestoreResult = { ok: false, reason: 'no outcome' };
  await runGroupRestorePlan(
    [{ node: 'n1', plan }],
    { reboot: one(runners.reboot), deploy: one(runners.deploy) },
    signal,
    (_nodes, r) => {
      result = r;
    },
  );
  return result;
}

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

describe('restore plan of a group', () => {
  const plain = restorePlan({ state: 'deployed', env: 'tiny:1', destructive: 0 });
  const destructive = restorePlan({ state: 'deployed', env: 'wipe:2', destructive: 1 });
  /** Runners recording each call's nodes; `fail` says which nodes a step fails for. */
  function runners(fail: (step: string, node: string) => string | undefined) {
    const calls: string[] = [];
    const step =
      (name: string): GroupStepRunner =>
      async (nodes) => {
        calls.push(`${name} ${nodes.join(',')}`);
        return new Map(
          nodes.map((n): [string, StepOutcome] => {
            const reason = fail(name, n);
            return [n, reason ? { ok: false, reason } : { ok: true }];
          }),
        );
      };
    return { calls, runners: { reboot: step('reboot'), deploy: step('deploy') } };
  }
  const run = async (
    items: { node: string; plan: typeof plain }[],
    r: Record<'reboot' | 'deploy', GroupStepRunner>,
    signal = new AbortController().signal,
  ) => {
    const reports: string[] = [];
    await runGroupRestorePlan(items, r, signal, (nodes, res: RestoreResult) =>
      reports.push(`${nodes.join(',')} ${res.ok ? `ok via ${res.via}` : res.reason}`),
    );
    return reports;
  };

  it('one reboot for the nodes that need one, one deployment for the destructive ones, side by side', async () => {
    const { calls, runners: r } = runners(() => undefined);
    const reports = await run(
      [
        { node: 'a', plan: plain },
        { node: 'b', plan: destructive },
        { node: 'c', plan: plain },
        { node: 'd', plan: destructive },
      ],
      r,
    );
    expect(calls.sort()).toEqual(['deploy b,d', 'reboot a,c']);
    expect(reports.sort()).toEqual(['a,c ok via reboot', 'b,d ok via deploy']);
  });
  it('the nodes whose reboot failed are redeployed by one deployment; each failure reported alone', async () => {
    const { calls, runners: r } = runners((step, n) =>
      step === 'reboot' && n !== 'a'
        ? `${n} not back`
        : step === 'deploy' && n === 'c'
          ? 'broadcast failed'
          : undefined,
    );
    const reports = await run(
      ['a', 'b', 'c', 'd'].map((node) => ({ node, plan: plain })),
      r,
    );
    expect(calls).toEqual(['reboot a,b,c,d', 'deploy b,c,d']);
    expect(reports).toEqual([
      'a ok via reboot',
      'b,d ok via deploy',
      'c reboot: c not back; deploy: broadcast failed',
    ]);
  });
  it('a step that throws fails each of its nodes; a node missing from the outcomes failed', async () => {
    const r = {
      reboot: async () => new Map<string, StepOutcome>([['a', { ok: true }]]),
      deploy: async (): Promise<Map<string, StepOutcome>> => {
        throw new Error('no image');
      },
    };
    expect(
      await run(
        ['a', 'b'].map((node) => ({ node, plan: plain })),
        r,
      ),
    ).toEqual(['a ok via reboot', 'b reboot: no outcome; deploy: no image']);
  });
  it('stops when aborted: no further step, the nodes left reported cancelled', async () => {
    const ac = new AbortController();
    const calls: string[] = [];
    const r = {
      reboot: async (nodes: readonly string[]) => {
        calls.push('reboot');
        ac.abort();
        return new Map(nodes.map((n): [string, StepOutcome] => [n, { ok: false, reason: 'cancelled' }]));
      },
      deploy: async () => {
        calls.push('deploy');
        return new Map<string, StepOutcome>();
      },
    };
    expect(
      await run(
        ['a', 'b'].map((node) => ({ node, plan: plain })),
        r,
        ac.signal,
      ),
    ).toEqual(['a reboot: cancelled; cancelled', 'b reboot: cancelled; cancelled']);
    expect(calls).toEqual(['reboot']);
  });
});
