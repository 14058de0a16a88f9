import { isSshError, type SshErrorKind } from '../ssh/ssh-error.js';
import type { ExecResult } from '../ssh/types.js';

/** Short, precise KO reasons: what failed and the tail of what it said. */
const SSH_REASONS: Record<SshErrorKind, string> = {
  connect_refused: 'SSH connection refused',
  connect_timeout: 'SSH connection timed out',
  auth_failed: 'SSH authentication failed',
  host_key_mismatch: 'host key mismatch',
  timeout: 'command timed out',
  channel_refused: 'SSH channel refused',
  connection_lost: 'SSH connection lost',
  aborted: 'aborted',
};

export function tail(text: string, max = 200): string {
  const t = text.trim().replace(/\s*\n\s*/g, ' | ');
  return t.length > max ? `...${t.slice(t.length - max)}` : t;
}

export function exitReason(label: string, r: ExecResult): string {
  const how =
    r.exitCode === null ? `was killed by signal ${r.exitSignal ?? '?'}` : `exited with code ${r.exitCode}`;
  const err = tail(r.stderr) || tail(r.stdout);
  return `${label} ${how}${err ? `: ${err}` : ''}`;
}

export function errorReason(label: string, e: unknown): string {
  if (isSshError(e)) {
    return e.kind === 'timeout' ? `${label} timed out` : SSH_REASONS[e.kind];
  }
  if (e instanceof Error) return e.name === 'AbortError' ? 'aborted' : `${label}: ${e.message}`;
  return `${label}: ${String(e)}`;
}
