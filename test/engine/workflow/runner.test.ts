import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import type { WorkflowEvent } from '../../../src/engine/workflow/events.js';
import { type RunWorkflowParams, runWorkflow } from '../../../src/engine/workflow/runner.js';
import type { WorkflowPlan } from '../../../src/engine/workflow/types.js';
import type { WorkflowOptions } from '../../../src/engine/workflow/workflow-options.js';
import { parseForceSteps } from '../../../src/formats/force-steps.js';
import { fakeSteps, type Script, tableOf } from './fake-steps.js';

const OPTS: WorkflowOptions = { os: 'linux', imageKind: 'tar', key: true };
const PLAN = parseForceSteps(
  'SetDeploymentEnv|SetDeploymentEnvUntrusted:0:0&BroadcastEnv|BroadcastEnvKastafior:0:0&BootNewEnv|BootNewEnvClassical:0:0',
);
const SET_STEPS = [
  'switch_pxe',
  'reboot',
  'wait_reboot',
  'send_key_in_deploy_env',
  'create_partition_table',
  'format_deploy_part',
  'mount_deploy_part',
  'format_swap_part',
];
const BCAST_STEPS = ['send_environment', 'check_kernel_files', 'send_key', 'install_bootloader', 'sync'];
const BOOT_STEPS = ['switch_pxe', 'umount_deploy_part', 'reboot_from_deploy_env', 'wait_reboot'];

function run(script: Script, over: Partial<RunWorkflowParams> & { nodes?: string[]; report?: boolean } = {}) {
  const fake = fakeSteps(script, { report: over.report ?? true });
  const events: WorkflowEvent[] = [];
  const promise = runWorkflow({
    wid: 'D-test',
    nodes: over.nodes ?? ['n-1', 'n-2', 'n-3'],
    plan: PLAN,
    options: OPTS,
    steps: fake.steps,
    signal: new AbortController().signal,
    logger: silentLogger,
    ...over,
    onEvent: (ev) => {
      events.push(ev);
      over.onEvent?.(ev);
    },
  });
  return { promise, events, calls: fake.calls };
}

const plan = (text: string): WorkflowPlan => parseForceSteps(text);
const indexOf = (events: WorkflowEvent[], pred: (e: WorkflowEvent) => boolean) => events.findIndex(pred);

describe('runWorkflow', () => {
  it('runs every micro-step once per group and ends OK with the statistics records', async () => {
    const { promise, calls, events } = run(() => undefined);
    const outcomes = await promise;
    expect(outcomes.map((o) => [o.node, o.status])).toEqual([
      ['n-1', 'ok'],
      ['n-2', 'ok'],
      ['n-3', 'ok'],
    ]);
    expect(calls.map((c) => c.micro)).toEqual([...SET_STEPS, ...BCAST_STEPS, ...BOOT_STEPS]);
    expect(calls.every((c) => c.nodes.join() === 'n-1,n-2,n-3')).toBe(true);
    const o = outcomes[0]!;
    expect(o.attempts).toBe(3);
    expect(o.macro).toBeUndefined();
    expect(o.steps.SetDeploymentEnv).toMatchObject({
      impl: 'SetDeploymentEnvUntrusted',
      retries: 0,
      timeoutSec: 0,
    });
    expect(o.steps.BroadcastEnv).toMatchObject({ impl: 'BroadcastEnvKastafior', retries: 0, timeoutSec: 0 });
    expect(o.steps.BootNewEnv).toMatchObject({ impl: 'BootNewEnvClassical', retries: 0, timeoutSec: 0 });
    expect(events[0]!.kind).toBe('workflow_start');
    expect(events.at(-1)).toMatchObject({ kind: 'workflow_end', ok: ['n-1', 'n-2', 'n-3'], ko: [] });
    expect(
      events.filter((e) => e.kind === 'macro_start').map((e) => e.kind === 'macro_start' && e.impl),
    ).toEqual(['SetDeploymentEnvUntrusted', 'BroadcastEnvKastafior', 'BootNewEnvClassical']);
  });

  it('marks a node that fails a micro-step KO with the step and reason; the others end OK', async () => {
    const { promise, calls } = run((node, micro) =>
      node === 'n-2' && micro === 'reboot' ? { fail: 'very_hard_reboot command is not provided' } : undefined,
    );
    const outcomes = await promise;
    expect(outcomes[1]).toMatchObject({
      node: 'n-2',
      status: 'ko',
      macro: 'SetDeploymentEnv',
      impl: 'SetDeploymentEnvUntrusted',
      micro: 'reboot',
      reason: 'very_hard_reboot command is not provided',
      attempts: 1,
    });
    expect(outcomes[1]!.steps.BroadcastEnv).toBeUndefined();
    expect(outcomes[0]!.status).toBe('ok');
    expect(outcomes[2]!.status).toBe('ok');
    expect(calls.find((c) => c.micro === 'wait_reboot')!.nodes).toEqual(['n-1', 'n-3']);
  });

  it('retries the implementation and counts the retries used', async () => {
    const { promise, events } = run(
      (node, micro, impl, attempt) =>
        node === 'n-1' && impl === 'SetDeploymentEnvUntrusted' && micro === 'wait_reboot' && attempt === 0
          ? { fail: 'not up' }
          : undefined,
      {
        plan: plan(
          'SetDeploymentEnv|SetDeploymentEnvUntrusted:2:0&BroadcastEnv|BroadcastEnvKastafior:0:0&BootNewEnv|BootNewEnvClassical:0:0',
        ),
      },
    );
    const outcomes = await promise;
    expect(outcomes[0]).toMatchObject({ node: 'n-1', status: 'ok', attempts: 4 });
    expect(outcomes[0]!.steps.SetDeploymentEnv).toMatchObject({
      impl: 'SetDeploymentEnvUntrusted',
      retries: 1,
    });
    expect(outcomes[1]!.steps.SetDeploymentEnv).toMatchObject({ retries: 0 });
    expect(events.filter((e) => e.kind === 'retry')).toEqual([
      {
        kind: 'retry',
        macro: 'SetDeploymentEnv',
        impl: 'SetDeploymentEnvUntrusted',
        attempt: 1,
        retries: 2,
        nodes: ['n-1'],
      },
    ]);
  });

  const FALLBACK = plan(
    'SetDeploymentEnv|SetDeploymentEnvUntrusted:0:0&BroadcastEnv|BroadcastEnvKastafior:0:0&BootNewEnv|BootNewEnvClassical:1:0,BootNewEnvHardReboot:0:0',
  );

  it('falls back to the next implementation once the retries are used up', async () => {
    const { promise, events, calls } = run(
      (node, micro) =>
        node === 'n-3' && micro === 'reboot_from_deploy_env' ? { fail: 'no reboot' } : undefined,
      { plan: FALLBACK },
    );
    const outcomes = await promise;
    expect(outcomes[2]).toMatchObject({ node: 'n-3', status: 'ok', attempts: 5 });
    expect(outcomes[2]!.steps.BootNewEnv).toMatchObject({
      impl: 'BootNewEnvHardReboot',
      retries: 2,
      timeoutSec: 0,
    });
    expect(outcomes[0]!.steps.BootNewEnv).toMatchObject({ impl: 'BootNewEnvClassical', retries: 0 });
    const kinds = events
      .filter((e) => ['retry', 'fallback', 'nodes_ko'].includes(e.kind))
      .map((e) => e.kind + (e.kind === 'fallback' ? `:${e.from}->${e.to}` : ''));
    expect(kinds).toEqual([
      'nodes_ko',
      'retry',
      'nodes_ko',
      'fallback:BootNewEnvClassical->BootNewEnvHardReboot',
    ]);
    expect(calls.filter((c) => c.impl === 'BootNewEnvHardReboot').map((c) => c.micro)).toEqual([
      'switch_pxe',
      'reboot',
      'wait_reboot',
    ]);
  });

  it('ends a node KO in SetDeploymentEnv without trying the later macro-steps', async () => {
    const { promise } = run(
      (node, micro) =>
        node === 'n-3' && (micro === 'reboot_from_deploy_env' || micro === 'reboot')
          ? { fail: `${micro} failed` }
          : undefined,
      { plan: FALLBACK },
    );
    const outcomes = await promise;
    expect(outcomes[2]).toMatchObject({
      node: 'n-3',
      status: 'ko',
      macro: 'SetDeploymentEnv',
      impl: 'SetDeploymentEnvUntrusted',
      micro: 'reboot',
      reason: 'reboot failed',
      attempts: 1,
    });
    expect(outcomes[2]!.steps.BroadcastEnv).toBeUndefined();
  });

  it('ends KO in the fallback implementation when it fails too', async () => {
    const { promise } = run(
      (node, micro, impl) =>
        node === 'n-3' &&
        impl.startsWith('BootNewEnv') &&
        (micro === 'reboot_from_deploy_env' || micro === 'reboot')
          ? { fail: `${micro} failed` }
          : undefined,
      { plan: FALLBACK },
    );
    const outcomes = await promise;
    expect(outcomes[2]).toMatchObject({
      node: 'n-3',
      status: 'ko',
      macro: 'BootNewEnv',
      impl: 'BootNewEnvHardReboot',
      micro: 'reboot',
      reason: 'reboot failed',
      attempts: 5,
    });
    expect(outcomes[2]!.steps.BootNewEnv).toMatchObject({ impl: 'BootNewEnvHardReboot', retries: 2 });
    expect(outcomes[0]!.status).toBe('ok');
  });

  it('times out a hung node with "Timeout in the <Instance> step" without holding the others', async () => {
    // Long enough for the other nodes to finish everything first, even on a loaded machine.
    const timed: WorkflowPlan = {
      ...PLAN,
      SetDeploymentEnv: [{ impl: 'SetDeploymentEnvUntrusted', retries: 0, timeoutSec: 0.5 }],
    };
    const { promise, events } = run(
      (node, micro) => (node === 'n-2' && micro === 'format_deploy_part' ? { hang: true } : undefined),
      { plan: timed },
    );
    const outcomes = await promise;
    expect(outcomes[1]).toMatchObject({
      node: 'n-2',
      status: 'ko',
      macro: 'SetDeploymentEnv',
      impl: 'SetDeploymentEnvUntrusted',
      micro: 'format_deploy_part',
      reason: 'Timeout in the SetDeploymentEnvUntrusted step',
    });
    expect(outcomes[0]!.status).toBe('ok');
    expect(outcomes[2]!.status).toBe('ok');
    const othersDone = indexOf(events, (e) => e.kind === 'macro_end' && e.impl === 'BootNewEnvClassical');
    const timeout = indexOf(events, (e) => e.kind === 'timeout');
    expect(othersDone).toBeGreaterThanOrEqual(0);
    expect(timeout).toBeGreaterThan(othersDone);
    expect(events[timeout]).toEqual({
      kind: 'timeout',
      macro: 'SetDeploymentEnv',
      impl: 'SetDeploymentEnvUntrusted',
      timeoutSec: 0.5,
      nodes: ['n-2'],
    });
  });

  it('aborts the in-flight micro-step of timed-out nodes and retries them once it has returned', async () => {
    let aborted = 0;
    const timed: WorkflowPlan = {
      ...PLAN,
      SetDeploymentEnv: [{ impl: 'SetDeploymentEnvUntrusted', retries: 1, timeoutSec: 0.05 }],
    };
    const { promise, calls } = run(
      (node, micro, impl, attempt) => {
        if (
          node === 'n-1' &&
          impl === 'SetDeploymentEnvUntrusted' &&
          micro === 'wait_reboot' &&
          attempt === 0
        ) {
          aborted++;
          return { hang: true };
        }
        return undefined;
      },
      { plan: timed, nodes: ['n-1'] },
    );
    const outcomes = await promise;
    expect(aborted).toBe(1);
    expect(outcomes[0]).toMatchObject({ status: 'ok', attempts: 4 });
    expect(outcomes[0]!.steps.SetDeploymentEnv).toMatchObject({ retries: 1, timeoutSec: 0.05 });
    expect(
      calls
        .filter((c) => c.impl === 'SetDeploymentEnvUntrusted' && c.micro === 'wait_reboot')
        .map((c) => c.attempt),
    ).toEqual([0, 1]);
  });

  it('lets nodes that finished an instance go on while the failed ones retry (the node set splits)', async () => {
    const { promise, events } = run(
      (node, micro, impl, attempt) => {
        if (node !== 'n-1' || !impl.startsWith('SetDeploymentEnv')) return undefined;
        if (micro === 'reboot' && attempt === 0) return { fail: 'no answer' };
        if (micro === 'wait_reboot' && attempt === 1) return { delayMs: 300 };
        return undefined;
      },
      {
        plan: plan(
          'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:0&BroadcastEnv|BroadcastEnvKastafior:0:0&BootNewEnv|BootNewEnvClassical:0:0',
        ),
      },
    );
    const outcomes = await promise;
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok', 'ok']);
    const fastBoot = indexOf(
      events,
      (e) => e.kind === 'macro_end' && e.impl === 'BootNewEnvClassical' && e.nodes.join() === 'n-2,n-3',
    );
    const slowSetEnv = indexOf(
      events,
      (e) => e.kind === 'macro_end' && e.impl === 'SetDeploymentEnvUntrusted' && e.nodes.join() === 'n-1',
    );
    expect(fastBoot).toBeGreaterThanOrEqual(0);
    expect(slowSetEnv).toBeGreaterThan(fastBoot);
    expect(events.find((e) => e.kind === 'split')).toEqual({
      kind: 'split',
      macro: 'SetDeploymentEnv',
      impl: 'SetDeploymentEnvUntrusted',
      micro: 'reboot',
      continuing: ['n-2', 'n-3'],
      others: ['n-1'],
    });
  });

  it('moves nodes reported in the same event-loop turn on as one group', async () => {
    const { promise, calls } = run(
      (node, micro, impl) =>
        impl === 'SetDeploymentEnvUntrusted' && micro === 'wait_reboot'
          ? { delayMs: node === 'n-1' || node === 'n-3' ? 5 : 30 }
          : undefined,
      { nodes: ['n-1', 'n-2', 'n-3', 'n-4'] },
    );
    const outcomes = await promise;
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(calls.filter((c) => c.micro === 'send_key_in_deploy_env').map((c) => c.nodes)).toEqual([
      ['n-1', 'n-3'],
      ['n-2', 'n-4'],
    ]);
  });

  it('keeps the group together when the micro-step does not report early', async () => {
    const { promise, calls } = run(
      (node, micro) => (node === 'n-1' && micro === 'wait_reboot' ? { delayMs: 20 } : undefined),
      { report: false },
    );
    const outcomes = await promise;
    expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok', 'ok']);
    expect(calls.every((c) => c.nodes.length === 3)).toBe(true);
  });

  it('stops the nodes just before the breakpoint, then resumes them from exactly there', async () => {
    const first = run(() => undefined, { breakpoint: 'BroadcastEnvKastafior:send_key' });
    const stopped = await first.promise;
    for (const o of stopped) {
      expect(o).toMatchObject({
        status: 'breakpoint',
        macro: 'BroadcastEnv',
        impl: 'BroadcastEnvKastafior',
        micro: 'send_key',
        attempts: 2,
      });
    }
    expect(first.calls.map((c) => c.micro)).toEqual([...SET_STEPS, 'send_environment', 'check_kernel_files']);
    expect(first.events.filter((e) => e.kind === 'breakpoint')).toHaveLength(1);

    const second = run(() => undefined, {
      resumeFrom: { macro: 'BroadcastEnv', impl: 'BroadcastEnvKastafior', micro: 'send_key' },
    });
    const resumed = await second.promise;
    expect(resumed.map((o) => o.status)).toEqual(['ok', 'ok', 'ok']);
    expect(second.calls.map((c) => c.micro)).toEqual([
      'send_key',
      'install_bootloader',
      'sync',
      ...BOOT_STEPS,
    ]);
    expect(resumed[0]!.steps.SetDeploymentEnv).toBeUndefined();
    expect(resumed[0]!.steps.BroadcastEnv).toMatchObject({ impl: 'BroadcastEnvKastafior', retries: 0 });
  });

  it('stops before the first micro-step for a macro-step breakpoint', async () => {
    const { promise, calls } = run(() => undefined, { breakpoint: 'BootNewEnv' });
    const outcomes = await promise;
    expect(outcomes[0]).toMatchObject({
      status: 'breakpoint',
      impl: 'BootNewEnvClassical',
      micro: 'switch_pxe',
    });
    expect(calls.some((c) => c.impl === 'BootNewEnvClassical')).toBe(false);
  });

  it('cancels in-flight micro-steps and records the step each node was in', async () => {
    const ac = new AbortController();
    const { promise, events } = run(
      (node, micro) =>
        (micro === 'send_environment' && node !== 'n-3') || (micro === 'check_kernel_files' && node === 'n-3')
          ? { hang: true }
          : undefined,
      {
        signal: ac.signal,
        onEvent: (e) => {
          // By then n-1 and n-2 hang in send_environment and n-3 in check_kernel_files.
          if (e.kind === 'micro_start' && e.micro === 'check_kernel_files') setTimeout(() => ac.abort(), 5);
        },
      },
    );
    const outcomes = await promise;
    expect(outcomes[0]).toMatchObject({
      status: 'cancelled',
      macro: 'BroadcastEnv',
      impl: 'BroadcastEnvKastafior',
      micro: 'send_environment',
    });
    expect(outcomes[1]).toMatchObject({ status: 'cancelled', micro: 'send_environment' });
    // n-3 was reported early, went on alone, and was inside check_kernel_files when cancelled.
    expect(outcomes[2]).toMatchObject({
      status: 'cancelled',
      macro: 'BroadcastEnv',
      micro: 'check_kernel_files',
    });
    expect(events.some((e) => e.kind === 'nodes_ko')).toBe(false);
    expect(events.at(-1)).toMatchObject({ kind: 'workflow_end', cancelled: ['n-1', 'n-2', 'n-3'] });
  });

  it('marks nodes KO with the error when the micro-step throws, and when it returns no result', async () => {
    const fake = fakeSteps();
    const outcomes = await runWorkflow({
      wid: 'D-x',
      nodes: ['a-1', 'a-2'],
      plan: PLAN,
      options: OPTS,
      signal: new AbortController().signal,
      logger: silentLogger,
      steps: tableOf(async (micro, nodes, ctx) => {
        if (micro === 'reboot') throw new Error('power controller unreachable');
        if (micro === 'switch_pxe' && ctx.macro === 'SetDeploymentEnv') {
          return new Map(nodes.filter((n) => n === 'a-1').map((n) => [n, { ok: true } as const]));
        }
        return fake.run(micro, nodes, ctx);
      }),
    });
    expect(outcomes[0]).toMatchObject({
      status: 'ko',
      micro: 'reboot',
      reason: 'power controller unreachable',
    });
    expect(outcomes[1]).toMatchObject({
      status: 'ko',
      micro: 'switch_pxe',
      reason: 'the micro-step returned no result for this node',
    });
  });

  it('replaces BootNewEnvKexec with BootNewEnvClassical for a non-linux environment', async () => {
    const { promise, calls, events } = run(() => undefined, {
      plan: plan(
        'SetDeploymentEnv|SetDeploymentEnvUntrusted:0:0&BroadcastEnv|BroadcastEnvKastafior:0:0&BootNewEnv|BootNewEnvKexec:1:250',
      ),
      options: { ...OPTS, os: 'other' },
      nodes: ['n-1'],
    });
    const [o] = await promise;
    expect(o!.steps.BootNewEnv).toMatchObject({ impl: 'BootNewEnvClassical', retries: 0, timeoutSec: 250 });
    expect(calls.some((c) => c.impl === 'BootNewEnvKexec')).toBe(false);
    expect(events[0]).toMatchObject({
      kind: 'workflow_start',
      notes: ['Using classical reboot instead of kexec with this non-linux environment (BootNewEnv)'],
    });
  });

  it('rejects bad input before starting anything', async () => {
    await expect(run(() => undefined, { nodes: ['n-1', 'n-1'] }).promise).rejects.toMatchObject({
      code: 'KAPLOY_NODE_LIST',
      fields: { node: 'n-1' },
    });
    await expect(
      run(() => undefined, { breakpoint: 'BroadcastEnvKastafior:set_vlan' }).promise,
    ).rejects.toMatchObject({
      code: 'KAPLOY_OPTION',
    });
    await expect(
      run(() => undefined, {
        resumeFrom: { macro: 'BroadcastEnv', impl: 'BroadcastEnvChain', micro: 'send_key' },
      }).promise,
    ).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
  });

  it('drives 2,000 nodes in one group per micro-step', async () => {
    const nodes = Array.from({ length: 2000 }, (_, i) => `big-${i + 1}.site`);
    const { promise, calls } = run(
      (node, micro) => (node === 'big-7.site' && micro === 'send_key' ? { fail: 'denied' } : undefined),
      { nodes },
    );
    const outcomes = await promise;
    expect(outcomes.filter((o) => o.status === 'ok')).toHaveLength(1999);
    expect(outcomes[6]).toMatchObject({ status: 'ko', micro: 'send_key', reason: 'denied' });
    expect(calls).toHaveLength(SET_STEPS.length + BCAST_STEPS.length + BOOT_STEPS.length);
  });

  it('times out the whole group when the micro-step keeps it together (no early reports)', async () => {
    const timed: WorkflowPlan = {
      ...PLAN,
      SetDeploymentEnv: [{ impl: 'SetDeploymentEnvUntrusted', retries: 0, timeoutSec: 0.05 }],
    };
    const { promise } = run(
      (node, micro) => (node === 'n-2' && micro === 'wait_reboot' ? { hang: true } : undefined),
      {
        plan: timed,
        report: false,
      },
    );
    const outcomes = await promise;
    for (const o of outcomes) {
      expect(o).toMatchObject({
        status: 'ko',
        micro: 'wait_reboot',
        reason: 'Timeout in the SetDeploymentEnvUntrusted step',
      });
    }
  });

  it('ignores an event listener that throws', async () => {
    const { promise } = run(() => undefined, {
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    expect((await promise).map((o) => o.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('cancels every node at its first micro-step when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const { promise, calls } = run(() => undefined, { signal: ac.signal });
    const outcomes = await promise;
    expect(calls).toEqual([]);
    for (const o of outcomes) {
      expect(o).toMatchObject({
        status: 'cancelled',
        impl: 'SetDeploymentEnvUntrusted',
        micro: 'switch_pxe',
      });
    }
  });

  it('clears the instance timers of a finished workflow', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { promise } = run(() => undefined, {
        plan: plan(
          'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:450&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvClassical:1:400',
        ),
      });
      const outcomes = await promise;
      expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok', 'ok']);
      expect(outcomes[0]!.steps.BroadcastEnv).toMatchObject({ timeoutSec: 1200 });
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
