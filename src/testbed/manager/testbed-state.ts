import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { KaployError } from '../../common/errors.js';
import { readToken } from '../../common/token-file.js';
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
  /** `up --tls`: the engine serves HTTPS (DIR/tls). */
  tls?: boolean;
  bootDelayMs: number;
  firmwareDelayMs?: number;
  nicBytesPerSec?: number;
  productionImage: string;
  /** The daemon's process id, once started. */
  pid?: number;
  /**
   * The control API's bearer token, read from DIR/keys/bmc-token (0600) by readState; never
   * written to testbed.json, which is not owner-only.
   */
  token?: string;
}

export async function writeState(l: TestbedLayout, s: TestbedState): Promise<void> {
  const { token: _secret, ...kept } = s;
  await writeFile(l.state, `${JSON.stringify(kept, null, 2)}\n`);
}

/** A new control API token, owner-only (a site from before tokens gets one at its next up). */
export async function writeBmcToken(l: TestbedLayout): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await writeFile(l.bmcToken, `${token}\n`, { mode: 0o600 });
  await chmod(l.bmcToken, 0o600);
  return token;
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
    delete s.token;
    if (existsSync(l.bmcToken)) s.token = readToken(l.bmcToken, `run kaploy testbed up --dir ${l.dir}`);
    return s;
  } catch (e) {
    throw new KaployError('KAPLOY_FILE', `${l.state}: not a testbed state file (${(e as Error).message})`, {
      file: l.state,
    });
  }
}

/** The engine's URL: https with `up --tls`, verified against DIR/tls/ca.pem. */
export const engineUrl = (s: TestbedState) => `${s.tls ? 'https' : 'http'}://127.0.0.1:${s.enginePort}`;

export const bmcUrl = (s: TestbedState) => `http://127.0.0.1:${s.bmcPort}`;
