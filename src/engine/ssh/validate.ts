import { isIP } from 'node:net';
import { KaployError } from '../../common/errors.js';
import { isValidHostname } from '../../formats/node-names.js';
import type { SshTarget } from './types.js';

/**
 * Checks a target where it enters the transport: a bad port or host would otherwise surface as an
 * obscure socket error, and a username or node name with control characters would end up in logs.
 */
export function assertTarget(t: SshTarget): void {
  const bad = (what: string) =>
    new KaployError('KAPLOY_OPTION', `invalid SSH target ${what}: ${JSON.stringify(t)}`, {
      node: typeof t?.node === 'string' ? t.node : undefined,
    });
  if (typeof t !== 'object' || t === null) throw bad('(not an object)');
  if (typeof t.node !== 'string' || t.node === '' || /[\s\x00-\x1f\x7f]/.test(t.node)) throw bad('node name');
  if (typeof t.host !== 'string' || !(isIP(t.host) !== 0 || isValidHostname(t.host))) throw bad('host');
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw bad('port');
  if (typeof t.username !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(t.username))
    throw bad('username');
}

/** The command is a shell line built by the caller (values quoted with shq); it must be non-empty and NUL-free. */
export function assertCommand(node: string, command: string): void {
  if (typeof command !== 'string' || command.trim() === '' || command.includes('\0')) {
    throw new KaployError('KAPLOY_OPTION', `invalid command for ${node}: empty or contains a NUL byte`, {
      node,
    });
  }
}

/** Node's timers fire at once (with a warning) beyond 2^31-1 ms, so longer timeouts are refused. */
export const MAX_TIMER_MS = 2_147_483_647;

export function assertTimeout(node: string, ms: number | undefined, what: string): void {
  if (ms !== undefined && !(Number.isFinite(ms) && ms > 0 && ms <= MAX_TIMER_MS)) {
    throw new KaployError('KAPLOY_OPTION', `invalid ${what} for ${node}: ${ms} (a positive number of ms)`, {
      node,
    });
  }
}
