import { describe, expect, it } from 'vitest';
import type { OperationStatus } from '../../../src/api/operation-status.js';
import { GridProgress } from '../../../src/client/grid/grid-progress.js';

function capture() {
  const chunks: string[] = [];
  return { chunks, stream: { write: (s: string) => chunks.push(s) } as unknown as NodeJS.WritableStream };
}

const status = (nodes: OperationStatus['nodes']): OperationStatus => ({
  wid: 'D-x',
  kind: 'deploy',
  user: 'u',
  status: 'running',
  startedAt: 0,
  nodes,
});

describe('kadeploy3 -M progress line', () => {
  it("shows every site's counts on one line, with the elapsed time", () => {
    let now = 1_000;
    const { stream } = capture();
    const p = new GridProgress(stream, ['rennes', 'lyon'], () => now);
    expect(p.line()).toBe('[0s] rennes: starting | lyon: starting');
    now += 65_000;
    p.update(
      'rennes',
      status({
        a: { state: 'running', macro: 'SetDeploymentEnv' },
        b: { state: 'running', macro: 'SetDeploymentEnv' },
        c: { state: 'ok' },
        d: { state: 'ko', error: 'x' },
      }),
    );
    expect(p.line()).toBe('[1m05s] rennes: SetDeploymentEnv 2, ok 1, ko 1 | lyon: starting');
    // A site whose admission control queued the deployment shows its place in the queue.
    p.update('lyon', { ...status({ e: { state: 'waiting' } }), status: 'queued', queuePosition: 3 });
    expect(p.line()).toBe('[1m05s] rennes: SetDeploymentEnv 2, ok 1, ko 1 | lyon: queued (position 3)');
  });
  it('draws at start, wipes itself before a log line only when shown, and on stop', () => {
    let now = 0;
    const { chunks, stream } = capture();
    const p = new GridProgress(stream, ['a'], () => now);
    p.beforeLine();
    expect(chunks).toEqual([]);
    p.start();
    expect(chunks).toEqual(['\r\x1b[K[0s] a: starting']);
    p.beforeLine();
    p.beforeLine();
    expect(chunks.slice(1)).toEqual(['\r\x1b[K']);
    // News redraws at once, but not more than four times a second.
    now += 300;
    p.update('a', status({ n: { state: 'ok' } }));
    expect(chunks.at(-1)).toBe('\r\x1b[K[0s] a: ok 1, ko 0');
    now += 100;
    p.update('a', status({ n: { state: 'ko' } }));
    expect(chunks.at(-1)).toBe('\r\x1b[K[0s] a: ok 1, ko 0');
    p.stop();
    expect(chunks.at(-1)).toBe('\r\x1b[K');
  });
});
