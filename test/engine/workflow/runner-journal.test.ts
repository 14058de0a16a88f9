import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import type { JournalPoint, RecoveredNode, WorkflowJournal } from '../../../src/engine/workflow/journal.js';
import { runWorkflow } from '../../../src/engine/workflow/runner.js';
import type { MicroStep, NodeOutcome } from '../../../src/engine/workflow/types.js';
import { parseForceSteps } from '../../../src/formats/force-steps.js';
import { fakeSteps, type Script } from './fake-steps.js';

/**
 * The runner's side of durable workflows: what it tells the journal (completed micro-steps, the
 * attempts a retry starts, unsafe steps entered, outcomes), and how it resumes a run from what a
 * journal kept (`recovered`).
 */
const OPTS = { os: 'linux', imageKind: 'tar', userPostinstall: true } as const;
const PLAN = parseForceSteps(
  'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:0&BroadcastEnv|BroadcastEnvKastafior:0:0&BootNewEnv|BootNewEnvClassical:0:0',
);

function recorder() {
  const last = new Map<string, JournalPoint & { entered?: MicroStep }>();
  const points: string[] = [];
  const outcomes: NodeOutcome[] = [];
  const journal: WorkflowJournal = {
    reached: (nodes, at) => {
      for (const n of nodes) last.set(n, at);
      points.push(`${nodes.join(',')} ${at.impl}#${at.attempt} ${at.micro ?? '-'}`);
    },
    entering: (nodes, at, micro) => {
      for (const n of nodes) last.set(n, { ...at, entered: micro });
      points.push(`${nodes.join(',')} entering ${micro}`);
    },
    finished: (o) => outcomes.push(...o),
  };
  return { journal, last, points, outcomes };
}

const run = (script: Script, more: Partial<Parameters<typeof runWorkflow>[0]>) => {
  const fake = fakeSteps(script);
  return {
    fake,
    promise: runWorkflow({
      wid: 'D-journal',
      nodes: ['n-1', 'n-2'],
      plan: PLAN,
      options: OPTS,
      steps: fake.steps,
      signal: new AbortController().signal,
      logger: silentLogger,
      ...more,
    }),
  };
};

describe('the runner and its journal', () => {
  it('tells each completed step, the retry it starts, the unsafe step entered, the outcomes', async () => {
    const r = recorder();
    const { promise } = run(
      (node, micro, _impl, attempt) =>
        node === 'n-1' && micro === 'format_deploy_part' && attempt === 0 ? { fail: 'disk' } : undefined,
      { journal: r.journal },
    );
    const out = await promise;
    expect(out.map((o) => o.status)).toEqual(['ok', 'ok']);
    // The retry of n-1 starts its implementation again: nothing of attempt 0 counts any more.
    expect(r.points).toContain('n-1 SetDeploymentEnvUntrusted#1 -');
    expect(r.points).toContain('n-1,n-2 SetDeploymentEnvUntrusted#0 wait_reboot');
    // The postinstall is written as entered before it runs, after send_environment completed.
    expect(r.points.filter((p) => p.includes('entering'))).toEqual([
      'n-2 entering manage_user_post_install',
      'n-1 entering manage_user_post_install',
    ]);
    expect(r.last.get('n-1')).toEqual({
      macro: 'BootNewEnv',
      impl: 'BootNewEnvClassical',
      attempt: 0,
      micro: 'wait_reboot',
    });
    expect(r.outcomes.map((o) => [o.node, o.status]).sort()).toEqual([
      ['n-1', 'ok'],
      ['n-2', 'ok'],
    ]);
  });

  it('resumes each node after its last completed step, in its attempt, its record kept', async () => {
    const t = Date.now() - 60_000;
    const recovered = new Map<string, RecoveredNode>([
      [
        'n-1',
        {
          at: {
            macro: 'SetDeploymentEnv',
            impl: 'SetDeploymentEnvUntrusted',
            attempt: 1,
            micro: 'mount_deploy_part',
          },
          record: {
            startedAt: t,
            attempts: 2,
            steps: {
              SetDeploymentEnv: {
                impl: 'SetDeploymentEnvUntrusted',
                retries: 1,
                timeoutSec: 0,
                durationMs: 0,
              },
            },
          },
        },
      ],
      // Its plan no longer runs this implementation.
      [
        'n-2',
        {
          at: { macro: 'BroadcastEnv', impl: 'BroadcastEnvChain', attempt: 0, micro: 'send_environment' },
          record: { startedAt: t, attempts: 2, steps: {} },
        },
      ],
    ]);
    const resumed: string[] = [];
    const { promise, fake } = run(() => undefined, {
      recovered,
      onResume: (step, nodes) => resumed.push(`${step} ${nodes.join(',')}`),
    });
    const out = await promise;
    expect(resumed).toEqual(['SetDeploymentEnvUntrusted-format_swap_part n-1']);
    expect(fake.calls[0]).toMatchObject({ micro: 'format_swap_part', attempt: 1, nodes: ['n-1'] });
    expect(fake.calls.some((c) => c.nodes.includes('n-2'))).toBe(false);
    expect(out[0]).toMatchObject({ node: 'n-1', status: 'ok', attempts: 4 });
    expect(out[0]?.steps.SetDeploymentEnv).toMatchObject({ retries: 1 });
    expect(out[0]?.durationMs).toBeGreaterThanOrEqual(60_000);
    expect(out[1]).toMatchObject({
      node: 'n-2',
      status: 'ko',
      reason: 'the engine restarted and this deployment no longer runs BroadcastEnvChain-send_environment',
    });
  });
});
