import { KaployError } from '../../common/errors.js';
import { assertHostname } from '../../formats/node-names.js';
import type { Fault, NodeStatus } from '../node/index.js';
import { callControl, listStatuses } from './control-client.js';
import { isDaemonAlive } from './daemon-process.js';
import { testbedLayout } from './layout.js';
import { readState, type TestbedState } from './testbed-state.js';

/** The state of a running site, or a clear error when DIR holds none. */
export function runningState(dir: string): TestbedState {
  const l = testbedLayout(dir);
  const s = readState(l);
  if (!isDaemonAlive(s.pid, l.dir)) {
    throw new KaployError(
      'KAPLOY_NOT_FOUND',
      `the virtual site '${s.site}' in ${l.dir} is not running: start it with kaploy testbed up --nodes ${s.nodes} --site ${s.site} --dir ${l.dir}`,
    );
  }
  return s;
}

export async function testbedStatus(
  dir: string,
  o: { signal?: AbortSignal } = {},
): Promise<{ site: string; nodes: NodeStatus[] }> {
  const s = runningState(dir);
  return { site: s.site, nodes: await listStatuses(s, o.signal) };
}

/** One line per node: `name power state`, aligned. */
export function formatStatus(nodes: NodeStatus[]): string {
  const w = Math.max(4, ...nodes.map((n) => n.name.length));
  return nodes
    .map(
      (n) =>
        `${n.name.padEnd(w)} ${n.power.padEnd(3)} ${n.state}${n.faults.length ? ` faults=${n.faults.map((f) => f.kind).join(',')}` : ''}\n`,
    )
    .join('');
}

/** Injects a fault on one node (or clears them all with 'clear'); returns the node's faults. */
export async function testbedFault(
  dir: string,
  node: string,
  fault: Fault | 'clear',
  o: { signal?: AbortSignal } = {},
): Promise<Fault[]> {
  const s = runningState(dir);
  const name = encodeURIComponent(assertHostname(node));
  if (fault === 'clear') {
    await callControl(s, 'DELETE', `/nodes/${name}/faults`, o);
    return [];
  }
  const r = (await callControl(s, 'POST', `/nodes/${name}/faults`, { ...o, body: fault })) as {
    faults: Fault[];
  };
  return r.faults;
}
