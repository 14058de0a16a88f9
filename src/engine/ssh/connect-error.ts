import type { HostKeyVerdict } from './host-key-store.js';
import { SshError } from './ssh-error.js';

/**
 * Turns what ssh2 or the socket reported while connecting into a typed SshError. ssh2 marks errors
 * with a `level` ('client-socket', 'client-timeout', 'client-authentication', 'handshake', ...);
 * a refused host key only shows as "Host denied", so the verifier's own verdict says why.
 */
export function classifyConnectError(
  node: string,
  where: string,
  err: Error & { level?: string; code?: string },
  hostKeyVerdict: HostKeyVerdict | undefined,
): SshError {
  if (hostKeyVerdict === 'mismatch') {
    return new SshError(
      'host_key_mismatch',
      node,
      `host key of ${where} does not match the pinned key: refusing to connect (the node may have been ` +
        'replaced or its system reinstalled; drop its pinned key only if that is expected)',
      err,
    );
  }
  if (hostKeyVerdict === 'unknown') {
    return new SshError(
      'host_key_mismatch',
      node,
      `host key of ${where} is unknown and trust on first use was not requested: refusing to connect ` +
        '(keys are learnt when the node boots into the deployment environment)',
      err,
    );
  }
  switch (err.code) {
    case 'ECONNREFUSED':
      return new SshError('connect_refused', node, `connection to ${where} refused`, err);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return new SshError('connect_refused', node, `${where} is unreachable (${err.code})`, err);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SshError('connect_refused', node, `cannot resolve ${where} (${err.code})`, err);
  }
  if (err.level === 'client-authentication') {
    return new SshError(
      'auth_failed',
      node,
      `authentication to ${where} failed: the engine key was refused`,
      err,
    );
  }
  if (err.level === 'client-timeout') {
    return new SshError('connect_timeout', node, `connecting to ${where} timed out`, err);
  }
  return new SshError(
    'connection_lost',
    node,
    `connection to ${where} failed during the handshake: ${err.message}`,
    err,
  );
}
