import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import type { NodeOpOutcome } from '../../../src/engine/nodeops/node-op-outcome.js';
import { runStages, type Stage } from '../../../src/engine/nodeops/run-stages.js';
import { OperationLog } from '../../../src/engine/operations/operation-log.js';
import type { MicroStep, NodeResult } from '../../../src/engine/workflow/types.js';

/**
 * A reboot's stages as runStages drives them, with stages that record the nodes they ran on: what
 * it journals (each stage's completed nodes, then the outcomes), and where resumed nodes start
 * (durable reboots: a node skips the stages it completed before the restart).
 */
function stages(fail: Record<string, string> = {}) {
  const ran: [string, string[]][] = [];
  const stage = (micro: MicroStep | 'set_pxe'): Stage => ({
    micro,
    run: async (nodes) => {
      ran.push([micro, [...nodes]]);
      return new Map(
        nodes.map((n): [string, NodeResult] =>
          fail[n] === micro ? [n, { ok: false, reason: 'no power' }] : [n, { ok: true }],
        ),
      );
    },
  });
  return { ran, list: [stage('switch_pxe'), stage('reboot'), stage('wait_reboot')] };
}

function journal() {
  const completed: [string, string[]][] = [];
  const ended: NodeOpOutcome[][] = [];
  return {
    completed,
    ended,
    j: {
      completed: (nodes: readonly string[], micro: string) => completed.push([micro, [...nodes]]),
      ended: (os: readonly NodeOpOutcome[]) => ended.push([...os]),
    },
  };
}

const run = () => ({
  wid: 'R-test',
  log: new OperationLog([]),
  signal: new AbortController().signal,
  logger: silentLogger,
});

describe('runStages', () => {
  it('journals the nodes that completed each stage, then every outcome', async () => {
    const s = stages({ b: 'reboot' });
    const jr = journal();
    const out = await runStages(run(), 'Reboot', 'RecordedEnv', ['a', 'b'], s.list, {
      timeoutSec: 1,
      retries: () => 0,
      journal: jr.j,
    });
    expect(out.map((o) => [o.node, o.status, o.micro])).toEqual([
      ['a', 'ok', 'wait_reboot'],
      ['b', 'ko', 'reboot'],
    ]);
    expect(jr.completed).toEqual([
      ['switch_pxe', ['a', 'b']],
      ['reboot', ['a']],
      ['wait_reboot', ['a']],
    ]);
    expect(jr.ended).toEqual([out]);
  });

  it('starts each resumed node at its stage: the stages before it are not run again for it', async () => {
    const s = stages();
    const jr = journal();
    // a: nothing completed; b: switch_pxe completed; c: reboot completed; d: all completed.
    const from = new Map([
      ['b', 1],
      ['c', 2],
      ['d', 3],
    ]);
    const out = await runStages(run(), 'Reboot', 'RecordedEnv', ['a', 'b', 'c', 'd'], s.list, {
      timeoutSec: 1,
      retries: () => 0,
      from,
      journal: jr.j,
    });
    expect(s.ran).toEqual([
      ['switch_pxe', ['a']],
      ['reboot', ['a', 'b']],
      ['wait_reboot', ['a', 'b', 'c']],
    ]);
    expect(out.map((o) => [o.node, o.status])).toEqual([
      ['a', 'ok'],
      ['b', 'ok'],
      ['c', 'ok'],
      ['d', 'ok'],
    ]);
    expect(jr.completed.map(([m]) => m)).toEqual(['switch_pxe', 'reboot', 'wait_reboot']);
  });
});
