import { KaployError } from '../../common/errors.js';

/**
 * What went wrong talking to a node, as a closed set the engine can branch on (retry a refused
 * connect while a node boots, never retry a host key mismatch, expect connection_lost after
 * `reboot`).
 */
export type SshErrorKind =
  | 'connect_refused'
  | 'connect_timeout'
  | 'auth_failed'
  | 'host_key_mismatch'
  | 'timeout'
  | 'channel_refused'
  | 'connection_lost'
  | 'aborted';

export class SshError extends KaployError {
  readonly kind: SshErrorKind;
  readonly node: string;

  constructor(kind: SshErrorKind, node: string, message: string, cause?: unknown) {
    super('KAPLOY_EXECUTE', `${node}: ${message}`, cause === undefined ? { node } : { node, cause });
    this.name = 'SshError';
    this.kind = kind;
    this.node = node;
  }
}

export function isSshError(e: unknown, kind?: SshErrorKind): e is SshError {
  return e instanceof SshError && (kind === undefined || e.kind === kind);
}
