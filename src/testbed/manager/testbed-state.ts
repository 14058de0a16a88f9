import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { KaployError } from '../../common/errors.js';
import type { TestbedLayout } from './layout.js';

/** DIR/testbed.json: what `up` decided, read by the daemon and by down/status/fault/console. */
export interface TestbedState {
  format: 1;
  site: string;
  cluster: string;
  nodes: number;
  sshPort: number;
  /** The BMC-like control API (and console streams) of the daemon, on 127.0.0.1. */
  bmcPort: number;
  /** Reserved for the engine (site.yaml server.port). */
  enginePort: number;
  bootDelayMs: number;
  firmwareDelayMs?: number;
  nicBytesPerSec?: number;
  productionImage: string;
  /** The daemon's process id, once started. */
  pid?: number;
}

export async function writeState(l: TestbedLayout, s: TestbedState): Promise<void> {
  await writeFile(l.state, `${JSON.stringify(s, null, 2)}\n`);
}

export function readState(l: TestbedLayout): TestbedState {
  let text: string;
  try {
    text = readFileSync(l.state, 'utf8');
  } catch {
    throw new KaployError(
      'KAPLOY_FILE',
      `no virtual site in ${l.dir} (no testbed.json): start one with kaploy testbed up --nodes N --dir ${l.dir}`,
      {
        file: l.state,
      },
    );
  }
  try {
    const s = JSON.parse(text) as TestbedState;
    if (s.format !== 1 || typeof s.bmcPort !== 'number') throw new Error('unexpected content');
    return s;
  } catch (e) {
    throw new KaployError('KAPLOY_FILE', `${l.state}: not a testbed state file (${(e as Error).message})`, {
      file: l.state,
    });
  }
}

export const bmcUrl = (s: TestbedState) => `http://127.0.0.1:${s.bmcPort}`;
