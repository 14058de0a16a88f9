import { isIP } from 'node:net';
import os from 'node:os';

/**
 * Whether an IP address is this machine's: loopback, unspecified, or one of its interfaces'
 * (read each time: interfaces come and go). Used to refuse downloads from the engine itself.
 */
export function isLocalAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');
  if (isIP(a) === 4 && (a.startsWith('127.') || a === '0.0.0.0')) return true;
  if (a === '::1' || a === '::') return true;
  for (const list of Object.values(os.networkInterfaces()))
    for (const i of list ?? []) if (i.address.toLowerCase() === a) return true;
  return false;
}
