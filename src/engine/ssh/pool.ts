import ssh2, { type ParsedKey } from 'ssh2';
import { KaployError } from '../../common/errors.js';
import { type Logger, silentLogger } from '../../common/logger.js';
import { withKeyObjects } from '../../common/ssh-key-objects.js';
import { PREFERRED_ALGORITHMS } from './algorithms.js';
import { NodeConnection, NotStartedError } from './connection.js';
import { Deadline, raceDeadline } from './deadline.js';
import { runCommand } from './run-command.js';
import { isSshError } from './ssh-error.js';
import type { ExecOptions, ExecResult, SshPoolObserver, SshPoolOptions, SshTarget } from './types.js';
import { assertCommand, assertTarget, assertTimeout, MAX_TIMER_MS } from './validate.js';

interface NodeEntry {
  target: SshTarget;
  /** Set while connecting; concurrent first execs share it. */
  pending?: Promise<NodeConnection>;
  /** Raised by any exec that joins the pending connect with trustOnFirstUse. */
  tofu: boolean;
  conn?: NodeConnection;
}

const DEFAULTS = { connectTimeoutMs: 10_000, keepaliveIntervalMs: 15_000, maxChannelsPerConnection: 8 };
const CAPTURE_LIMIT = 256 * 1024;
/** A command that never started (its reused connection was gone) is retried once on a fresh one. */
const MAX_ATTEMPTS = 2;

/**
 * The engine's one way to run commands on nodes: a connection per node, reused across steps and
 * re-established after the node reboots, at most `maxChannelsPerConnection` commands at once on it.
 */
export class SshPool {
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly privateKey: ParsedKey;
  private readonly logger: Logger;
  private readonly o: Required<Omit<SshPoolOptions, 'logger' | 'privateKey' | 'observer'>>;
  private readonly observer: SshPoolObserver | undefined;

  constructor(opts: SshPoolOptions) {
    const parsed = ssh2.utils.parseKey(opts.privateKey);
    if (parsed instanceof Error || Array.isArray(parsed)) {
      const why = parsed instanceof Error ? parsed.message : 'several keys in one file';
      throw new KaployError('KAPLOY_CONFIG', `invalid SSH private key for the engine: ${why}`, {
        key: 'ssh_key',
      });
    }
    if (!parsed.isPrivateKey()) {
      throw new KaployError('KAPLOY_CONFIG', 'the engine SSH key is a public key; a private key is needed', {
        key: 'ssh_key',
      });
    }
    this.privateKey = withKeyObjects(parsed);
    this.logger = opts.logger ?? silentLogger;
    this.observer = opts.observer;
    this.o = {
      hostKeys: opts.hostKeys,
      connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      keepaliveIntervalMs: opts.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
      maxChannelsPerConnection: opts.maxChannelsPerConnection ?? DEFAULTS.maxChannelsPerConnection,
      algorithms: opts.algorithms ?? PREFERRED_ALGORITHMS,
      captureLimitBytes: opts.captureLimitBytes ?? CAPTURE_LIMIT,
    };
    const positive = (v: number) => Number.isFinite(v) && v > 0 && v <= MAX_TIMER_MS;
    const int = (v: number) => Number.isInteger(v) && v > 0;
    for (const [k, ok] of [
      ['connectTimeoutMs', positive(this.o.connectTimeoutMs)],
      ['keepaliveIntervalMs', this.o.keepaliveIntervalMs === 0 || positive(this.o.keepaliveIntervalMs)],
      ['maxChannelsPerConnection', int(this.o.maxChannelsPerConnection)],
      ['captureLimitBytes', int(this.o.captureLimitBytes)],
    ] as const) {
      if (!ok) throw new KaployError('KAPLOY_CONFIG', `invalid SSH pool option ${k}`, { key: k });
    }
  }

  /** Runs `command` (a shell line; quote user values with shq) on the node. Non-zero exit is a value. */
  async exec(t: SshTarget, command: string, o: ExecOptions = {}): Promise<ExecResult> {
    assertTarget(t);
    assertCommand(t.node, command);
    assertTimeout(t.node, o.timeoutMs, 'timeoutMs');
    const deadline = new Deadline(t.node, o.timeoutMs, o.signal);
    try {
      for (let attempt = 1; ; attempt++) {
        if (deadline.signal.aborted) throw deadline.error();
        const conn = await raceDeadline(this.connection(t, o.trustOnFirstUse === true), deadline);
        try {
          await conn.slots.acquire(deadline.signal, () => deadline.error());
        } catch (e) {
          if (e instanceof NotStartedError && attempt < MAX_ATTEMPTS) continue;
          throw e instanceof NotStartedError ? e.sshError : e;
        }
        try {
          return await runCommand(conn, command, o, deadline, this.o.captureLimitBytes);
        } catch (e) {
          if (e instanceof NotStartedError && attempt < MAX_ATTEMPTS && !deadline.signal.aborted) {
            this.logger.debug({ node: t.node }, 'connection gone before the command started; reconnecting');
            continue;
          }
          throw e instanceof NotStartedError ? e.sshError : e;
        } finally {
          conn.release();
        }
      }
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Logs into the node (or reuses its open connection) without running anything: whether its sshd
   * answers and accepts the engine's key, the host key learnt or checked on the way. The
   * connection stays in the pool for the next exec. Cheaper than `exec('true')`, which costs the
   * node a process (on a virtual node, a sandbox).
   */
  async connect(
    t: SshTarget,
    o: Pick<ExecOptions, 'signal' | 'timeoutMs' | 'trustOnFirstUse'> = {},
  ): Promise<void> {
    assertTarget(t);
    assertTimeout(t.node, o.timeoutMs, 'timeoutMs');
    const deadline = new Deadline(t.node, o.timeoutMs, o.signal);
    try {
      if (deadline.signal.aborted) throw deadline.error();
      await raceDeadline(this.connection(t, o.trustOnFirstUse === true), deadline);
    } finally {
      deadline.dispose();
    }
  }

  /** Drops the node's connection (it is rebooting); the next exec reconnects. */
  forget(node: string): void {
    const entry = this.nodes.get(node);
    if (!entry) return;
    this.nodes.delete(node);
    void entry.conn?.destroy();
    entry.pending?.then(
      (c) => c.destroy(),
      () => {},
    );
  }

  /** Ends every connection and waits for them to close. The pool stays usable afterwards. */
  async closeAll(): Promise<void> {
    const entries = [...this.nodes.values()];
    this.nodes.clear();
    await Promise.all(
      entries.map(async (e) => {
        const conn = e.conn ?? (await e.pending?.catch(() => undefined));
        await conn?.end();
      }),
    );
  }

  private connection(t: SshTarget, tofu: boolean): Promise<NodeConnection> {
    let entry = this.nodes.get(t.node);
    if (entry && !sameEndpoint(entry.target, t)) {
      // The node's address or user changed (site reconfigured): start over.
      this.forget(t.node);
      entry = undefined;
    }
    if (entry?.conn && !entry.conn.closed && !entry.conn.retiring) return Promise.resolve(entry.conn);
    if (entry?.pending) {
      if (tofu) entry.tofu = true;
      return entry.pending;
    }
    const e: NodeEntry = entry ?? { target: { ...t }, tofu };
    e.tofu = tofu;
    e.conn = undefined;
    this.nodes.set(t.node, e);
    const log = this.logger.child({ node: t.node });
    const pending = NodeConnection.connect({
      target: e.target,
      privateKey: this.privateKey,
      hostKeys: this.o.hostKeys,
      connectTimeoutMs: this.o.connectTimeoutMs,
      keepaliveIntervalMs: this.o.keepaliveIntervalMs,
      maxChannels: this.o.maxChannelsPerConnection,
      algorithms: this.o.algorithms,
      logger: log,
      trustOnFirstUse: () => e.tofu,
    });
    e.pending = pending;
    pending.then(
      (conn) => {
        e.pending = undefined;
        const observer = this.observer;
        // A connection already closed would never tell its close: not counted open at all.
        if (observer && !conn.closed) {
          observer.opened();
          conn.onLost(() => observer.closed());
        }
        if (this.nodes.get(t.node) !== e) return; // forgotten meanwhile
        e.conn = conn;
        // A dropped connection (node rebooted) leaves the map so the next exec reconnects.
        conn.onLost(() => {
          if (e.conn !== conn) return;
          e.conn = undefined;
          if (!e.pending && this.nodes.get(t.node) === e) this.nodes.delete(t.node);
        });
      },
      (err: unknown) => {
        e.pending = undefined;
        // An abort (the operation cancelled) is not the node failing.
        if (!isSshError(err, 'aborted')) this.observer?.failed(isSshError(err) ? err.kind : 'other');
        if (this.nodes.get(t.node) === e && !e.conn) this.nodes.delete(t.node);
      },
    );
    return pending;
  }
}

function sameEndpoint(a: SshTarget, b: SshTarget): boolean {
  return a.host === b.host && a.port === b.port && a.username === b.username;
}
