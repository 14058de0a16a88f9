import net from 'node:net';
import { KaployError } from '../../common/errors.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { ConsoleService } from '../nodeops/console-service.js';
import { notFound } from '../server/http-errors.js';
import { plainAddress } from './auth.js';

/** A console this listener opened: its TCP channel, and what GET answers once it closed. */
interface Channel {
  wid: string;
  user: string;
  node: string;
  startedAt: number;
  endedAt?: number;
  reason?: string;
  uri: string;
  server: net.Server;
  sockets: Set<net.Socket>;
}

/** Kadeploy keeps a finished workflow 360 minutes (its autoclean default); so does this listener. */
const KEEP_MS = 6 * 3600_000;
/** The most closed consoles remembered; the oldest are forgotten first. */
const MAX_CLOSED = 1000;
/** How long a connection may stay after its console closed (its last line is on its way). */
const CUT_AFTER_MS = 2_000;
const WID_RE = /^C-[0-9a-f-]{36}$/;
/** A Host header used as the channel's host name only when it is a plain name or address. */
const HOST_RE = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])$/;

const seconds = (ms: number) => Math.round(ms / 10) / 100;
const unknown = (wid: string) => notFound('KAPLOY_INVALID_WORKFLOW_ID', `no open console ${wid}`);

/** Kadeploy's console resource (GET /console, GET /console/:id). */
export interface KadeployConsoleInfo {
  id: string;
  user: string;
  node: string;
  error: boolean;
  attached?: boolean;
  console_uri?: string;
  time: number;
}

/** Where a POST /console came from and reached the listener: the channel listens and admits there. */
export interface ChannelPlace {
  /** The caller's address: the one address the channel accepts a connection from (decision 0026). */
  peer: string;
  /** The listener's address the request reached: the channel listens on it. */
  local: string;
  /** The name the client used for the listener (its Host header), for the channel's URI. */
  hostname: string | undefined;
}

/**
 * Kadeploy 3.3's consoles over kaploy's console service: POST opens a kaploy console session
 * (the native rights check and one-session-per-node rule) and a TCP channel on an ephemeral port
 * of the listener's address, which relays the session's output to the connection and the
 * connection's bytes to its input, raw, as Kadeploy's kaconsole3 client (and `nc`) expect. One
 * connection at a time; the channel admits only the address that opened it. Closing the
 * connection, DELETE, revoked rights or the engine stopping close the session and the channel.
 */
export class KadeployConsoles {
  readonly #channels = new Map<string, Channel>();

  constructor(private readonly svc: () => ConsoleService) {}

  async open(
    caller: AuthenticatedUser,
    node: string,
    place: ChannelPlace,
  ): Promise<{ wid: string; uri: string }> {
    this.#prune();
    const view = this.svc().open(caller, node);
    const server = net.createServer();
    // Several connections at once are only refusals (already attached, another address).
    server.maxConnections = 8;
    const ch: Channel = {
      wid: view.wid,
      user: view.user,
      node: view.node,
      startedAt: view.startedAt,
      uri: '',
      server,
      sockets: new Set(),
    };
    server.on('connection', (sock) => this.#connected(caller, ch, sock, place.peer));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, place.local, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      this.svc().close(caller, view.wid, 'its TCP channel could not listen');
      throw new KaployError('KAPLOY_INTERNAL', `the console channel cannot listen: ${(e as Error).message}`);
    }
    server.on('error', () => {});
    const port = (server.address() as net.AddressInfo).port;
    const local = net.isIPv6(place.local) ? `[${place.local}]` : place.local;
    const host = place.hostname && HOST_RE.test(place.hostname) ? place.hostname : local;
    ch.uri = `tcp://${host}:${port}`;
    this.#channels.set(ch.wid, ch);
    void this.svc()
      .whenClosed(caller, ch.wid)
      .then((reason) => this.#ended(ch, reason))
      .catch(() => this.#ended(ch, 'closed'));
    return { wid: ch.wid, uri: ch.uri };
  }

  #connected(caller: AuthenticatedUser, ch: Channel, sock: net.Socket, peer: string): void {
    sock.on('error', () => {});
    const refuse = (why: string) => {
      sock.end(`[Kaconsole] ${why}\n`, () => sock.destroy());
    };
    // The channel is not authenticated (Kadeploy's is a bare TCP port): only the caller's address.
    if (plainAddress(sock.remoteAddress) !== peer) {
      refuse('connection refused: not the address that opened this console');
      return;
    }
    if (ch.endedAt !== undefined) {
      refuse(`console closed: ${ch.reason}`);
      return;
    }
    let out: NodeJS.ReadableStream;
    try {
      out = this.svc().attach(caller, ch.wid);
    } catch {
      refuse('console already attached');
      return;
    }
    ch.sockets.add(sock);
    sock.setNoDelay(true);
    out.pipe(sock);
    sock.on('data', (d: Buffer) => {
      try {
        this.svc().input(caller, ch.wid, d);
      } catch {
        sock.destroy();
      }
    });
    sock.on('close', () => {
      ch.sockets.delete(sock);
      if (ch.endedAt === undefined) this.#closeQuietly(caller, ch.wid, 'the client left');
    });
  }

  #closeQuietly(caller: AuthenticatedUser, wid: string, reason: string): void {
    try {
      this.svc().close(caller, wid, reason);
    } catch {
      /* already closed */
    }
  }

  #ended(ch: Channel, reason: string): void {
    if (ch.endedAt !== undefined) return;
    ch.endedAt = Date.now();
    ch.reason = reason;
    // No new connection; the attached one ends with the session's last line (its stream ends),
    // and a client that keeps its side open is cut shortly after.
    ch.server.close();
    const cut = setTimeout(() => {
      for (const s of ch.sockets) s.destroy();
    }, CUT_AFTER_MS);
    cut.unref();
  }

  /** The channel of `wid` when the caller may see it (its owner, or an admin), else code 1. */
  #visible(caller: AuthenticatedUser, wid: string): Channel | undefined {
    if (!WID_RE.test(wid)) throw unknown(wid);
    const ch = this.#channels.get(wid);
    if (ch && ch.user !== caller.name && !caller.admin) throw unknown(wid);
    return ch;
  }

  #info(ch: Channel): KadeployConsoleInfo {
    const open = ch.endedAt === undefined;
    return {
      id: ch.wid,
      user: ch.user,
      node: ch.node,
      error: !open,
      ...(open ? { attached: ch.sockets.size > 0, console_uri: ch.uri } : {}),
      time: seconds((ch.endedAt ?? Date.now()) - ch.startedAt),
    };
  }

  #attached(caller: AuthenticatedUser, wid: string): boolean {
    try {
      return this.svc().attached(caller, wid);
    } catch {
      return false;
    }
  }

  /** A kaploy console opened elsewhere (kaploy's own API): no channel here, so no console_uri. */
  #nativeInfo(caller: AuthenticatedUser, wid: string): KadeployConsoleInfo {
    const view = this.svc()
      .list(caller)
      .find((v) => v.wid === wid);
    if (!view) throw unknown(wid);
    return {
      id: view.wid,
      user: view.user,
      node: view.node,
      error: false,
      attached: this.#attached(caller, wid),
      time: seconds(Date.now() - view.startedAt),
    };
  }

  list(caller: AuthenticatedUser): KadeployConsoleInfo[] {
    this.#prune();
    const mine = [...this.#channels.values()]
      .filter((ch) => ch.user === caller.name || caller.admin)
      .map((ch) => this.#info(ch));
    const native = this.svc()
      .list(caller)
      .filter((v) => !this.#channels.has(v.wid))
      .map((v) => this.#nativeInfo(caller, v.wid));
    return [...mine, ...native].sort((a, b) => b.time - a.time);
  }

  get(caller: AuthenticatedUser, wid: string): KadeployConsoleInfo {
    const ch = this.#visible(caller, wid);
    return ch ? this.#info(ch) : this.#nativeInfo(caller, wid);
  }

  /** Empty while it is open; once closed, why (the command failed, rights revoked, the client left). */
  error(caller: AuthenticatedUser, wid: string): string {
    const ch = this.#visible(caller, wid);
    if (!ch) {
      this.#nativeInfo(caller, wid);
      return '';
    }
    return ch.reason ?? '';
  }

  /** Closes the session when it is open, and forgets the console (Kadeploy deletes the workflow). */
  delete(caller: AuthenticatedUser, wid: string): { wid: string } {
    const ch = this.#visible(caller, wid);
    if (!ch) {
      this.svc().close(caller, wid);
      return { wid };
    }
    if (ch.endedAt === undefined) this.#closeQuietly(caller, wid, `closed by ${caller.name}`);
    ch.server.close();
    this.#channels.delete(wid);
    return { wid };
  }

  /** The listener stops: every channel and its connection go (the sessions close with the engine). */
  closeAll(): void {
    for (const ch of this.#channels.values()) {
      ch.server.close();
      for (const s of ch.sockets) s.destroy();
    }
    this.#channels.clear();
  }

  #prune(): void {
    const now = Date.now();
    const closed = [...this.#channels.values()].filter((ch) => ch.endedAt !== undefined);
    for (const [i, ch] of closed.entries())
      if (now - (ch.endedAt as number) > KEEP_MS || closed.length - i > MAX_CLOSED)
        this.#channels.delete(ch.wid);
  }
}
