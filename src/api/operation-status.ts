/** What GET /deployment/:wid (and /reboot/:wid, /power/:wid) answer. */
export interface NodeStateView {
  macro?: string;
  micro?: string;
  state: 'waiting' | 'running' | 'ok' | 'ko' | 'breakpoint' | 'cancelled';
  error?: string;
}
export interface OperationOutcome {
  node: string;
  status: 'ok' | 'ko' | 'breakpoint' | 'cancelled';
  impl?: string;
  micro?: string;
  reason?: string;
  /** A stable code for why, when one applies: KAPLOY_PREEMPTED (another deployment took the node with --force). */
  code?: string;
  /** kapower3 --status: what the node's power status command answered. */
  output?: string;
}
export interface OperationStatus {
  wid: string;
  kind: 'deploy' | 'reboot' | 'power';
  user: string;
  /**
   * preparing: checks (image downloads) still running, no node touched yet. queued: checks passed,
   * waiting for admission control (the site's bound on operations and nodes), no node touched yet.
   */
  status: 'preparing' | 'queued' | 'running' | 'done' | 'cancelled' | 'failed';
  /** While queued: its place in the site's admission queue, 1 for the next one to start. */
  queuePosition?: number;
  environment?: string;
  startedAt: number;
  finishedAt?: number;
  nodes: Record<string, NodeStateView>;
  outcomes?: OperationOutcome[];
  /** Set when the whole operation failed before touching nodes (e.g. checksum mismatch). */
  error?: { code: string; message: string };
}
export interface LogPage {
  lines: string[];
  next: number;
  done: boolean;
}
