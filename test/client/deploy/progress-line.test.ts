import { describe, expect, it } from 'vitest';
import type { OperationStatus } from '../../../src/api/operation-status.js';
import { progressLine } from '../../../src/client/deploy/progress-line.js';

const status = (s: Partial<OperationStatus>): OperationStatus => ({
  wid: 'D-x',
  kind: 'deploy',
  user: 'u',
  status: 'running',
  startedAt: 0,
  nodes: { a: { state: 'waiting' }, b: { state: 'waiting' } },
  ...s,
});

describe('the progress line', () => {
  it('counts the nodes per step while running', () => {
    expect(
      progressLine(
        status({ nodes: { a: { state: 'running', macro: 'BroadcastEnv' }, b: { state: 'ok' } } }),
        75,
      ),
    ).toBe('[1m15s] 2 nodes: BroadcastEnv 1, ok 1, ko 0');
  });

  it('shows the place in the admission queue while queued', () => {
    expect(progressLine(status({ status: 'queued', queuePosition: 4 }), 12)).toBe(
      '[12s] 2 nodes: queued (position 4)',
    );
    // An engine that gives no position (older): still said queued, not "waiting 2".
    expect(progressLine(status({ status: 'queued' }), 0)).toBe('[0s] 2 nodes: queued');
  });
});
