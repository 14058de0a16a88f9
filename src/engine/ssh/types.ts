import type { Algorithms } from 'ssh2';
import type { Logger } from '../../common/logger.js';
import type { HostKeyStore } from './host-key-store.js';
import type { SshErrorKind } from './ssh-error.js';

/** Where a node's SSH server is: `node` names it in errors, logs and the host key store. */
export interface SshTarget {
  node: string;
  host: string;
  port: number;
  username: string;
}

export interface SshPoolOptions {
  /** OpenSSH/PEM private key of the engine. */
  privateKey: Buffer | string;
  hostKeys: HostKeyStore;
  /** Bounds TCP connect + handshake + authentication. Default 10_000. */
  connectTimeoutMs?: number;
  /** SSH-level keepalive; 3 unanswered ones drop the connection. Default 15_000 (ssh2's default is off). */
  keepaliveIntervalMs?: number;
  /** Default 8 (OpenSSH MaxSessions is 10). */
  maxChannelsPerConnection?: number;
  logger?: Logger;
  /** Overrides the algorithm preferences (benchmarks compare kex lists). Default PREFERRED_ALGORITHMS. */
  algorithms?: Algorithms;
  /** Captured stdout/stderr keep their last this many bytes. Default 256 KiB. */
  captureLimitBytes?: number;
  /** Told of every connection opened, closed and failed (the engine's metrics). */
  observer?: SshPoolObserver;
}

/** What the pool tells of its connections: counts only, never which node. */
export interface SshPoolObserver {
  opened(): void;
  closed(): void;
  failed(kind: SshErrorKind | 'other'): void;
}

export interface ExecOptions {
  /** Streamed with backpressure, then EOF. Without it the command gets EOF at once. */
  stdin?: string | Buffer | NodeJS.ReadableStream;
  /** If given, stdout streams there (not captured); the stream is not ended. */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Bounds the whole exec (connect, wait for a channel, run). On expiry: signal, close channel, then connection. */
  timeoutMs?: number;
  /** Same as the timeout, on abort. */
  signal?: AbortSignal;
  /** Learn an unknown host key (node booting into the deployment env); a mismatch is always an error. */
  trustOnFirstUse?: boolean;
}

/** Non-zero exit is a value. Captured output keeps the last `captureLimitBytes` bytes. */
export interface ExecResult {
  exitCode: number | null;
  /** Set when the command was killed by a signal, in Node's form ('SIGTERM'). */
  exitSignal?: string;
  stdout: string;
  stderr: string;
}
