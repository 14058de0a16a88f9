import { statSync } from 'node:fs';
import { KaployError } from '../../common/errors.js';
import { DEFAULT_TESTBED_DIR } from './layout.js';

/** `kaploy testbed up` options, validated where they enter (strings from the command line). */
export interface UpOptions {
  nodes: number;
  site: string;
  dir: string;
  /** Nodes are node-N.SITE.DOMAIN (e.g. grid5000.fr) instead of node-N.SITE. */
  domain?: string;
  bootDelayMs: number;
  /** Firmware/POST time of every boot but kexec (what kexec saves on real machines). */
  firmwareDelayMs?: number;
  nicBytesPerSec?: number;
  sshPort: number;
  /** The engine serves HTTPS with a certificate of the site's own CA (DIR/tls). */
  tls?: true;
}

export interface RawUpOptions {
  nodes?: string | number;
  site?: string;
  dir?: string;
  bootDelay?: string | number;
  domain?: string;
  firmwareDelay?: string | number;
  nicRate?: string | number;
  sshPort?: string | number;
  tls?: boolean;
}

// 2000 measured on the 2-core machine (bench/deploy-scale.mjs): deployed in 92 s, daemon peak 436 MiB.
const MAX_NODES = 2000;
const DEFAULT_SITE = 'vsite';
const DEFAULT_BOOT_DELAY_MS = 200;
const DEFAULT_SSH_PORT = 22;
const SITE_RE = /^[a-z][a-z0-9-]{0,30}$/;
// DNS labels, lower case; short enough that node-2000.SITE.DOMAIN stays a valid host name.
const DOMAIN_RE =
  /^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

function domainName(raw: string): string {
  if (!DOMAIN_RE.test(raw))
    throw new KaployError(
      'KAPLOY_OPTION',
      `--domain: '${raw.slice(0, 80)}' is not a domain name (lower-case DNS labels separated by dots, at most 200 characters)`,
      { key: '--domain' },
    );
  return raw;
}

function int(v: string | number, opt: string, min: number, max: number): number {
  const n = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new KaployError('KAPLOY_OPTION', `${opt}: expected an integer from ${min} to ${max}, got '${v}'`, {
      key: opt,
    });
  }
  return n;
}

export function validateUpOptions(raw: RawUpOptions): UpOptions {
  if (raw.nodes === undefined)
    throw new KaployError('KAPLOY_MISSING_OPTION', `--nodes N is mandatory (1 to ${MAX_NODES})`, {
      key: '--nodes',
    });
  const nodes = int(raw.nodes, '--nodes', 1, MAX_NODES);
  const site = raw.site ?? DEFAULT_SITE;
  if (!SITE_RE.test(site)) {
    throw new KaployError(
      'KAPLOY_OPTION',
      `--site: '${site}' is not a valid site name (a lower-case letter, then letters, digits or '-', at most 31)`,
      {
        key: '--site',
      },
    );
  }
  const dir = raw.dir ?? DEFAULT_TESTBED_DIR;
  if (dir.length === 0) throw new KaployError('KAPLOY_OPTION', '--dir: empty path', { key: '--dir' });
  assertDirUsable(dir);
  return {
    nodes,
    site,
    dir,
    bootDelayMs:
      raw.bootDelay === undefined ? DEFAULT_BOOT_DELAY_MS : int(raw.bootDelay, '--boot-delay', 0, 600_000),
    ...(raw.domain === undefined ? {} : { domain: domainName(raw.domain) }),
    ...(raw.firmwareDelay === undefined
      ? {}
      : { firmwareDelayMs: int(raw.firmwareDelay, '--firmware-delay', 0, 600_000) }),
    ...(raw.nicRate === undefined
      ? {}
      : { nicBytesPerSec: int(raw.nicRate, '--nic-rate', 1024, 100_000_000_000) }),
    sshPort: raw.sshPort === undefined ? DEFAULT_SSH_PORT : int(raw.sshPort, '--ssh-port', 1, 65535),
    ...(raw.tls === true ? { tls: true as const } : {}),
  };
}

/** DIR may be absent (created) or a directory; anything else is refused before anything starts. */
function assertDirUsable(dir: string): void {
  let st: import('node:fs').Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new KaployError('KAPLOY_OPTION', `--dir ${dir}: ${(e as Error).message}`, {
      key: '--dir',
      file: dir,
    });
  }
  if (!st.isDirectory())
    throw new KaployError('KAPLOY_OPTION', `--dir ${dir} exists and is not a directory`, {
      key: '--dir',
      file: dir,
    });
}
