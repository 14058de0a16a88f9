import { Socket } from 'node:net';
import ssh2, { type Algorithms, type Client, type ParsedKey, type PublicKeyAuthMethod } from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader only gives its default export.
const { Client: SshClient } = ssh2;

import { coalesceWrites } from '../../common/coalesce-writes.js';
import type { Logger } from '../../common/logger.js';
import { ChannelSlots } from './channel-slots.js';
import { classifyConnectError } from './connect-error.js';
import type { HostKeyStore, HostKeyVerdict } from './host-key-store.js';
import { SshError } from './ssh-error.js';
import type { SshTarget } from './types.js';

export interface ConnectParams {
  target: SshTarget;
  privateKey: ParsedKey;
  hostKeys: HostKeyStore;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  maxChannels: number;
  algorithms: Algorithms;
  logger: Logger;
  /** Asked when the key is unknown; execs that join a pending connect may raise it. */
  trustOnFirstUse: () => boolean;
}

/** A command that never started because its connection went away: safe to retry on a fresh one. */
export class NotStartedError extends Error {
  constructor(readonly sshError: SshError) {
    super(sshError.message);
  }
}

/**
 * One authenticated ssh2 connection to one node, shared by all execs on it, with a bound on
 * concurrent channels. It ends itself on `retire` once its last channel is released, so a timed-out
 * command's connection is closed without cutting the node's other commands short.
 */
export class NodeConnection {
  readonly slots: ChannelSlots;
  closed = false;
  retiring = false;
  private lastError: Error | undefined;
  private readonly closeListeners = new Set<(e: SshError) => void>();
  private readonly closedPromise: Promise<void>;

  private constructor(
    readonly client: Client,
    readonly target: SshTarget,
    maxChannels: number,
    private readonly logger: Logger,
  ) {
    this.slots = new ChannelSlots(maxChannels);
    this.closedPromise = new Promise((resolve) => client.once('close', () => resolve()));
    client.on('error', (err) => {
      this.lastError = err;
      this.logger.debug({ err: err.message }, 'ssh connection error');
    });
    client.once('close', () => this.onClose());
  }

  get where(): string {
    return `${this.target.username}@${this.target.host}:${this.target.port}`;
  }

  /** The error execs on this connection get when it is gone. */
  lostError(): SshError {
    const why = this.lastError ? `: ${this.lastError.message}` : '';
    return new SshError(
      'connection_lost',
      this.target.node,
      `connection to ${this.where} lost${why}`,
      this.lastError,
    );
  }

  onLost(listener: (e: SshError) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  release(): void {
    this.slots.release();
    if (this.retiring && this.slots.inUse === 0) this.end();
  }

  /** No new channels here; ends once the channels in use are released. */
  retire(): void {
    if (this.retiring) return;
    this.retiring = true;
    this.slots.fail(new NotStartedError(this.lostError()));
    if (this.slots.inUse === 0) this.end();
  }

  end(): Promise<void> {
    if (!this.closed) {
      this.client.end();
      // A node that stopped answering never completes the close handshake: don't wait on it.
      const t = setTimeout(() => this.client.destroy(), 2_000);
      t.unref();
    }
    return this.closedPromise;
  }

  destroy(): Promise<void> {
    if (!this.closed) this.client.destroy();
    return this.closedPromise;
  }

  private onClose(): void {
    this.closed = true;
    const err = this.lostError();
    this.logger.debug('ssh connection closed');
    this.slots.fail(new NotStartedError(err));
    for (const l of [...this.closeListeners]) l(err);
    this.closeListeners.clear();
  }

  /** TCP connect + handshake + host key check + public key auth, bounded by `connectTimeoutMs`. */
  static connect(p: ConnectParams): Promise<NodeConnection> {
    const { target: t, logger } = p;
    const where = `${t.username}@${t.host}:${t.port}`;
    return new Promise((resolve, reject) => {
      const client = new SshClient();
      let verdict: HostKeyVerdict | undefined;
      let settled = false;
      const fail = (e: SshError) => {
        if (settled) return;
        settled = true;
        // A changed host key is a security event, not just a failed step.
        if (verdict === 'mismatch') logger.warn({ where, kind: e.kind }, e.message);
        else logger.debug({ where, kind: e.kind }, e.message);
        clearTimeout(timer);
        client.destroy();
        reject(e);
      };
      const timer = setTimeout(
        () =>
          fail(
            new SshError(
              'connect_timeout',
              t.node,
              `connecting to ${where} timed out after ${p.connectTimeoutMs} ms`,
            ),
          ),
        p.connectTimeoutMs,
      );
      // Until 'ready', errors decide the connect outcome; an unhandled 'error' would crash the process.
      const onConnectError = (err: Error) => fail(classifyConnectError(t.node, where, err, verdict));
      client.on('error', onConnectError);
      const onConnectClose = () =>
        fail(new SshError('connection_lost', t.node, `${where} closed the connection during the handshake`));
      client.once('close', onConnectClose);
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.off('error', onConnectError);
        client.off('close', onConnectClose);
        logger.debug({ where }, 'ssh connected');
        resolve(new NodeConnection(client, t, p.maxChannels, logger));
      });
      const hostVerifier = (key: Buffer): boolean => {
        try {
          const v = p.hostKeys.verify(t.node, key);
          if (v === 'match') return true;
          if (v === 'unknown' && p.trustOnFirstUse()) {
            p.hostKeys.learn(t.node, key);
            logger.info({ where }, 'learnt host key (trust on first use)');
            return true;
          }
          verdict = v;
          return false;
        } catch (e) {
          fail(
            new SshError('host_key_mismatch', t.node, `host key store failed: ${(e as Error).message}`, e),
          );
          return false;
        }
      };
      const auth: PublicKeyAuthMethod = { type: 'publickey', username: t.username, key: p.privateKey };
      const sock = new Socket();
      try {
        // Our own socket, so that what ssh2 writes packet by packet in one event-loop turn (a
        // channel open, an exec request, stdin and EOF) leaves in one write, as OpenSSH's client
        // writes its output buffer once per loop iteration. Commands are small request/answer
        // exchanges: with Nagle's algorithm a small packet would wait for the node's delayed ACK.
        // See docs/decisions/0039-ssh-writes-per-loop-turn.md.
        coalesceWrites(sock);
        sock.setNoDelay(true);
        sock.connect({ host: t.host, port: t.port });
        client.connect({
          sock,
          host: t.host,
          port: t.port,
          username: t.username,
          // ssh2 re-parses `privateKey` on every connect; an auth method takes the key parsed once.
          authHandler: [auth],
          hostVerifier,
          algorithms: p.algorithms,
          readyTimeout: 0, // our own timer bounds the whole connect, TCP included
          keepaliveInterval: p.keepaliveIntervalMs,
          keepaliveCountMax: 3,
        });
      } catch (e) {
        sock.on('error', () => {}).destroy(); // ssh2 refused before taking it
        fail(classifyConnectError(t.node, where, e as Error, verdict));
      }
    });
  }
}
