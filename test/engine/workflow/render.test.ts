import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import type { WorkflowEvent } from '../../../src/engine/workflow/events.js';
import { foldNodes } from '../../../src/engine/workflow/fold-nodes.js';
import { renderEvent } from '../../../src/engine/workflow/render-event.js';
import { renderSummary } from '../../../src/engine/workflow/render-summary.js';
import { resumePointOf } from '../../../src/engine/workflow/resume-point.js';
import { runWorkflow } from '../../../src/engine/workflow/runner.js';
import { stepStats } from '../../../src/engine/workflow/step-stats.js';
import type { NodeOutcome } from '../../../src/engine/workflow/types.js';
import { parseForceSteps } from '../../../src/formats/force-steps.js';
import { fakeSteps, tableOf } from './fake-steps.js';

const PLAN = parseForceSteps(
  'SetDeploymentEnv|SetDeploymentEnvDummy:0:0&BroadcastEnv|BroadcastEnvDummy:0:0&BootNewEnv|BootNewEnvHardReboot:0:0',
);

/** Seconds each micro-step takes on the test's clock. */
const COST: Record<string, number> = { dummy: 1, switch_pxe: 1, reboot: 5, wait_reboot: 30 };

/** A real run on a clock that only the micro-steps advance, so durations in the text are exact. */
async function transcript(verbosity: number) {
  let t = 0;
  const events: WorkflowEvent[] = [];
  const fake = fakeSteps((node, micro) =>
    node === 'gdx-3.orsay' && micro === 'reboot'
      ? { fail: 'very_hard_reboot command is not provided' }
      : undefined,
  );
  const steps = tableOf(async (...a: Parameters<typeof fake.run>) => {
    const [micro, nodes, ctx] = a;
    t += (COST[micro] ?? 0) * 1000;
    if (micro === 'reboot') ctx.note?.(`Performing a hard reboot on ${foldNodes(nodes)}`);
    if (micro === 'wait_reboot') ctx.debug('gdx-1.orsay', 'ssh answers');
    return fake.run(...a);
  });
  await runWorkflow({
    wid: 'D-1',
    nodes: ['gdx-1.orsay', 'gdx-2.orsay', 'gdx-3.orsay'],
    plan: PLAN,
    options: { os: 'linux', imageKind: 'tar' },
    steps,
    signal: new AbortController().signal,
    logger: silentLogger,
    onEvent: (e) => events.push(e),
    now: () => t,
  });
  return events.flatMap((e) => renderEvent(e, verbosity, { debug: verbosity === 5 }));
}

describe('renderEvent', () => {
  it('prints launch and end at verbosity 0', async () => {
    expect(await transcript(0)).toEqual([
      'Launching a deployment on gdx-[1-3].orsay',
      'End of deployment for gdx-[1-3].orsay after 38s',
    ]);
  });

  it('adds macro-steps, failures and splits at verbosity 1', async () => {
    expect(await transcript(1)).toEqual([
      'Launching a deployment on gdx-[1-3].orsay',
      'Performing a Deploy[SetDeploymentEnvDummy] step',
      'End of step Deploy[SetDeploymentEnvDummy] after 1s',
      'Performing a Deploy[BroadcastEnvDummy] step',
      'End of step Deploy[BroadcastEnvDummy] after 1s',
      'Performing a Deploy[BootNewEnvHardReboot] step',
      'Step Deploy[BootNewEnvHardReboot] failed for gdx-3.orsay after 6s',
      '---',
      'Nodeset split into :',
      '  gdx-[1-2].orsay',
      '  gdx-3.orsay',
      '---',
      'End of step Deploy[BootNewEnvHardReboot] after 36s',
      'End of deployment for gdx-[1-3].orsay after 38s',
    ]);
  });

  it('adds `!!! The nodes … failed on step` at 2, micro-steps and notes at 3, `Time in` at 4', async () => {
    const v4 = await transcript(4);
    expect(v4).toContain(
      '!!! The nodes gdx-3.orsay failed on step reboot: very_hard_reboot command is not provided',
    );
    expect(v4.filter((l) => l.startsWith('  ') && !l.startsWith('   '))).toEqual([
      '  dummy',
      '  dummy',
      '  switch_pxe',
      '  reboot',
      '  gdx-[1-2].orsay',
      '  gdx-3.orsay',
      '  wait_reboot',
    ]);
    expect(v4).toContain('   * Performing a hard reboot on gdx-[1-3].orsay');
    expect(v4.filter((l) => l.includes('Time in'))).toEqual([
      '~ Time in SetDeploymentEnvDummy-dummy: 1s',
      '~ Time in BroadcastEnvDummy-dummy: 1s',
      '~ Time in BootNewEnvHardReboot-switch_pxe: 1s',
      '~ Time in BootNewEnvHardReboot-reboot: 5s',
      '~ Time in BootNewEnvHardReboot-wait_reboot: 30s',
    ]);
    expect((await transcript(3)).some((l) => l.includes('Time in'))).toBe(false);
    expect((await transcript(1)).some((l) => l.startsWith('!!!'))).toBe(false);
  });

  it('adds bypassed steps and (with -d) debug output at 5', async () => {
    const v5 = await transcript(5);
    expect(v5).toContain(' * Bypassing the step Deploy[BootNewEnvHardReboot]-set_vlan (no --vlan)');
    expect(v5).toContain('  [gdx-1.orsay] ssh answers');
    expect(await transcript(4)).not.toContain(
      ' * Bypassing the step Deploy[BootNewEnvHardReboot]-set_vlan (no --vlan)',
    );
  });

  it('renders breakpoints, timeouts, retries, fallbacks and cancellations', () => {
    const nodes = ['a-1', 'a-2'];
    const lines = (e: WorkflowEvent, v = 2) => renderEvent(e, v);
    expect(
      lines({
        kind: 'breakpoint',
        macro: 'BroadcastEnv',
        impl: 'BroadcastEnvKastafior',
        micro: 'manage_user_post_install',
        nodes,
        durationMs: 3000,
      }),
    ).toEqual([
      '*** Breakpoint on manage_user_post_install reached for a-[1-2]',
      'Step Deploy[BroadcastEnvKastafior] breakpointed',
      'Breakpoint reached for a-[1-2]',
    ]);
    expect(
      lines(
        {
          kind: 'timeout',
          macro: 'SetDeploymentEnv',
          impl: 'SetDeploymentEnvUntrusted',
          timeoutSec: 450,
          nodes,
        },
        1,
      ),
    ).toEqual([
      "Timeout in Deploy[SetDeploymentEnvUntrusted] after 450s before the end of the step, let's kill the instance (a-[1-2])",
    ]);
    expect(
      lines(
        {
          kind: 'timeout',
          macro: 'SetDeploymentEnv',
          impl: 'SetDeploymentEnvUntrusted',
          timeoutSec: 450,
          nodes,
        },
        0,
      ),
    ).toEqual([]);
    expect(
      lines(
        { kind: 'retry', macro: 'BootNewEnv', impl: 'BootNewEnvClassical', attempt: 1, retries: 2, nodes },
        1,
      ),
    ).toEqual(['Retrying the step Deploy[BootNewEnvClassical] on a-[1-2] (retry 1/2)']);
    expect(
      lines(
        { kind: 'fallback', macro: 'BootNewEnv', from: 'BootNewEnvKexec', to: 'BootNewEnvHardReboot', nodes },
        1,
      ),
    ).toEqual(['Falling back from Deploy[BootNewEnvKexec] to Deploy[BootNewEnvHardReboot] for a-[1-2]']);
    expect(
      lines(
        {
          kind: 'cancelled',
          macro: 'BroadcastEnv',
          impl: 'BroadcastEnvKascade',
          micro: 'send_environment',
          nodes,
        },
        0,
      ),
    ).toEqual(['Deployment cancelled in BroadcastEnvKascade-send_environment for a-[1-2]']);
  });
});

describe('foldNodes', () => {
  it('folds numbered names like Kadeploy', () => {
    expect(foldNodes(['gdx-5.site', 'gdx-6.site', 'gdx-7.site', 'gdx-12.site'])).toBe('gdx-[5-7,12].site');
    expect(foldNodes(['b-2', 'a-1', 'b-1', 'frontend'])).toBe('b-[1-2],a-1,frontend');
    expect(foldNodes(['n-01', 'n-02', 'n-1'])).toBe('n-[01-02],n-1');
    expect(foldNodes([])).toBe('');
    // Digits in the domain: folded on the host part's number, as Grid'5000's names need.
    expect(
      foldNodes(['node-2.site1.grid5000.fr', 'node-3.site1.grid5000.fr', 'node-5.site1.grid5000.fr']),
    ).toBe('node-[2-3,5].site1.grid5000.fr');
    expect(foldNodes(['node-1.s1', 'node-2.s1', 'node-1.s2'])).toBe('node-[1-2].s1,node-1.s2');
    expect(foldNodes(['frontend.site1', 'x.y'])).toBe('frontend.site1,x.y');
    // Digits in the domain are not the node's number.
    expect(foldNodes(['node-2.site1.grid5000.fr', 'node-3.site1.grid5000.fr'])).toBe(
      'node-[2-3].site1.grid5000.fr',
    );
    expect(foldNodes(['node-2.x', 'node-3.x', 'node-2.y'])).toBe('node-[2-3].x,node-2.y');
    expect(foldNodes(['gw.site1', 'node-1.site1'])).toBe('gw.site1,node-1.site1');
  });
});

const outcome = (
  node: string,
  status: NodeOutcome['status'],
  extra: Partial<NodeOutcome> = {},
): NodeOutcome => ({
  node,
  status,
  attempts: 1,
  durationMs: 0,
  steps: {},
  ...extra,
});

describe('renderSummary', () => {
  it('lists successful and failed nodes as kadeploy3 does', () => {
    expect(
      renderSummary([
        outcome('dahu-10.grenoble', 'ok'),
        outcome('dahu-9.grenoble', 'ko', {
          macro: 'SetDeploymentEnv',
          impl: 'SetDeploymentEnvUntrusted',
          micro: 'reboot',
          reason: 'very_hard_reboot command is not provided',
        }),
        outcome('dahu-2.grenoble', 'ok'),
        outcome('dahu-3.grenoble', 'breakpoint', {
          macro: 'BroadcastEnv',
          impl: 'BroadcastEnvKastafior',
          micro: 'manage_user_post_install',
        }),
        outcome('dahu-4.grenoble', 'cancelled', {
          macro: 'BootNewEnv',
          impl: 'BootNewEnvClassical',
          micro: 'wait_reboot',
        }),
      ]),
    ).toEqual([
      'The deployment is successful on nodes',
      'dahu-2.grenoble',
      'dahu-10.grenoble',
      'The deployment reached the breakpoint on nodes',
      'dahu-3.grenoble (BroadcastEnvKastafior-manage_user_post_install)',
      'The deployment failed on nodes',
      'dahu-9.grenoble (SetDeploymentEnvUntrusted-reboot: very_hard_reboot command is not provided)',
      'The deployment was cancelled on nodes',
      'dahu-4.grenoble (BootNewEnvClassical-wait_reboot)',
    ]);
  });

  it('omits empty sections', () => {
    expect(renderSummary([outcome('n-1', 'ok')])).toEqual(['The deployment is successful on nodes', 'n-1']);
    expect(renderSummary([])).toEqual([]);
  });
});

describe('resumePointOf', () => {
  it('reads the resume point of a breakpoint outcome only', () => {
    const at = { macro: 'BroadcastEnv', impl: 'BroadcastEnvKastafior', micro: 'send_key' } as const;
    expect(resumePointOf(outcome('a', 'breakpoint', at))).toEqual(at);
    expect(resumePointOf(outcome('a', 'ko', at))).toBeUndefined();
  });
});

describe('stepStats', () => {
  it('gives the statistics columns of an OK node', () => {
    expect(
      stepStats(
        outcome('gdx-121', 'ok', {
          steps: {
            SetDeploymentEnv: {
              impl: 'SetDeploymentEnvUntrusted',
              retries: 0,
              timeoutSec: 550,
              durationMs: 107_400,
            },
            BroadcastEnv: { impl: 'BroadcastEnvKastafior', retries: 1, timeoutSec: 600, durationMs: 49_600 },
            BootNewEnv: { impl: 'BootNewEnvHardReboot', retries: 2, timeoutSec: 400, durationMs: 0 },
          },
        }),
      ),
    ).toEqual({
      step1: 'SetDeploymentEnvUntrusted',
      step2: 'BroadcastEnvKastafior',
      step3: 'BootNewEnvHardReboot',
      timeout_step1: 550,
      timeout_step2: 600,
      timeout_step3: 400,
      retry_step1: 0,
      retry_step2: 1,
      retry_step3: 2,
      step1_duration: 107,
      step2_duration: 50,
      step3_duration: 0,
      success: true,
      error: '',
    });
  });

  it('leaves unreached macro-steps empty and records the error of a KO node', () => {
    const s = stepStats(
      outcome('n', 'ko', {
        macro: 'SetDeploymentEnv',
        impl: 'SetDeploymentEnvUntrusted',
        micro: 'reboot',
        reason: 'Timeout in the SetDeploymentEnvUntrusted step',
        steps: {
          SetDeploymentEnv: {
            impl: 'SetDeploymentEnvUntrusted',
            retries: 2,
            timeoutSec: 200,
            durationMs: 600_000,
          },
        },
      }),
    );
    expect(s).toMatchObject({
      step1: 'SetDeploymentEnvUntrusted',
      step2: '',
      timeout_step2: 0,
      retry_step1: 2,
      step1_duration: 600,
      success: false,
      error: 'SetDeploymentEnvUntrusted-reboot: Timeout in the SetDeploymentEnvUntrusted step',
    });
    expect(
      stepStats(outcome('n', 'breakpoint', { impl: 'BroadcastEnvKastafior', micro: 'send_key' })).error,
    ).toBe('Breakpoint before BroadcastEnvKastafior-send_key');
  });
});
