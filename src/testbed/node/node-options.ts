import { isIPv4 } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import ssh2 from 'ssh2';

import { KaployError } from '../../common/errors.js';
import { isValidHostname } from '../../formats/node-names.js';
import type { VirtualNodeOptions } from './types.js';

// ssh2 is CommonJS: Node's ESM loader finds no named exports in it (vitest does), so destructure.
const { utils } = ssh2;

const bad = (name: string, why: string): never => {
  throw new KaployError('KAPLOY_OPTION', `virtual node ${name}: ${why}`, { node: name });
};

const isPort = (p: unknown): boolean => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;
const isRate = (r: unknown): boolean =>
  r === undefined || (typeof r === 'number' && Number.isFinite(r) && r > 0);

/** Checks a node's options where they enter; returns them with absolute directories. */
export function validateNodeOptions(o: VirtualNodeOptions): VirtualNodeOptions {
  const n = o.name;
  if (!isValidHostname(n)) bad(String(n), 'invalid host name');
  // Loopback only: a virtual node's traffic never leaves the machine.
  if (!isIPv4(o.address) || !o.address.startsWith('127.'))
    bad(n, `address ${o.address} is not an IPv4 loopback address (127.x.y.z)`);
  if (!isPort(o.sshPort)) bad(n, `invalid SSH port ${o.sshPort}`);
  if (!isPort(o.markerPort) || o.markerPort === o.sshPort) bad(n, `invalid marker port ${o.markerPort}`);
  if (!o.dir || !o.bootDir) bad(n, 'dir and bootDir are required');
  if (!['ip_hex', 'ip', 'hostname'].includes(o.pxeFileNaming))
    bad(n, `unknown PXE file naming ${o.pxeFileNaming}`);
  if (!o.deployKernel) bad(n, 'deployKernel is required');
  if (utils.parseKey(o.hostKey) instanceof Error)
    bad(n, 'hostKey is not a private key ssh2 can read (OpenSSH format expected)');
  if (utils.parseKey(o.engineKey.trim()) instanceof Error) bad(n, 'engineKey is not a public key line');
  if (!isAbsolute(o.productionImage)) bad(n, 'productionImage must be an absolute path');
  const p = o.partitioning;
  if (!/^\/dev\/[a-z]+$/.test(p.blockDevice)) bad(n, `block device ${p.blockDevice} must look like /dev/sda`);
  const nums = [p.swap, p.prod, p.deploy, p.tmp];
  if (nums.some((x) => !Number.isInteger(x) || x < 1 || x > 64 || x === 4) || new Set(nums).size !== 4)
    bad(n, 'partition numbers must be distinct integers in 1..64 other than 4 (the extended partition)');
  const h = o.hardware;
  if (!(Number.isFinite(h.bootDelayMs) && h.bootDelayMs >= 0))
    bad(n, 'bootDelayMs must be a non-negative number');
  if (h.firmwareDelayMs !== undefined && !(Number.isFinite(h.firmwareDelayMs) && h.firmwareDelayMs >= 0))
    bad(n, 'firmwareDelayMs must be a non-negative number');
  if (!isRate(h.nicBytesPerSec) || !isRate(h.diskBytesPerSec))
    bad(n, 'rates must be positive numbers of bytes per second');
  return { ...o, dir: resolve(o.dir), bootDir: resolve(o.bootDir) };
}
