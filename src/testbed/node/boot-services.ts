import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Server as SshServer } from 'ssh2';
import { coalesceWrites } from '../../common/coalesce-writes.js';

function listen(server: NetServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * The TCP services of one boot: SSH (handed to the node's ssh2 Server, or held silent under the
 * `hang` boot fault: TCP accepted, handshake never answered) and, in the deployment environment,
 * the marker port. Everything closes at the next reset; an idle node costs only these sockets.
 */
export class BootServices {
  private readonly servers: NetServer[] = [];
  private readonly sockets = new Map<string, Socket>();

  private constructor() {}

  static async start(o: {
    address: string;
    sshPort: number;
    markerPort?: number | undefined;
    ssh: SshServer;
    hang: boolean;
  }): Promise<BootServices> {
    const s = new BootServices();
    const sshd = createServer((sock) => {
      s.track(sock);
      coalesceWrites(sock);
      if (!o.hang) o.ssh.injectSocket(sock);
    });
    s.servers.push(sshd);
    try {
      await listen(sshd, o.address, o.sshPort);
      if (o.markerPort !== undefined) {
        const marker = createServer((sock) => {
          sock.on('error', () => {});
          sock.end();
        });
        s.servers.push(marker);
        await listen(marker, o.address, o.markerPort);
      }
    } catch (e) {
      s.close(false);
      throw e;
    }
    return s;
  }

  private track(sock: Socket): void {
    const key = `${sock.remoteAddress}:${sock.remotePort}`;
    this.sockets.set(key, sock);
    sock.on('error', () => {});
    sock.once('close', () => this.sockets.delete(key));
  }

  /** Cuts the TCP connection an SSH client came from (the drop_connection fault). */
  drop(peer: { ip: string; port: number }): void {
    this.sockets.get(`${peer.ip}:${peer.port}`)?.destroy();
  }

  /** graceful: pending output (e.g. an exit status) is flushed first, as when a system shuts down. */
  close(graceful: boolean): void {
    for (const srv of this.servers) srv.close();
    for (const sock of this.sockets.values()) {
      if (graceful) {
        sock.end();
        setTimeout(() => sock.destroy(), 1000).unref();
      } else sock.destroy();
    }
    this.sockets.clear();
  }
}
