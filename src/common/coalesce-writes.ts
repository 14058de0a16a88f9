import type { Socket } from 'node:net';

/**
 * As sshd and OpenSSH's client, which write their output buffer once per loop iteration: the
 * packets ssh2 writes one by one in one event-loop turn (a node's exit status, EOF and close; the
 * engine's exec request, stdin and EOF) leave in one write. Used by the virtual node's SSH
 * server, whose second and third packets would otherwise wait behind Nagle's algorithm for the
 * engine's delayed ACK, and by the engine's SSH client: one system call (and one wake-up of the
 * peer) per turn instead of one per packet.
 */
export function coalesceWrites(sock: Socket): void {
  const write = sock.write;
  const destroy = sock.destroy;
  let corked = false;
  const flush = () => {
    if (!corked) return;
    corked = false;
    sock.uncork();
  };
  sock.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked) {
      corked = true;
      this.cork();
      process.nextTick(flush);
    }
    return write.apply(this, args);
  } as Socket['write'];
  // What was written before the connection is cut (a power loss, a dropped connection) had left,
  // as with sshd: flush it first.
  sock.destroy = function (this: Socket, ...args: Parameters<Socket['destroy']>) {
    flush();
    return destroy.apply(this, args);
  } as Socket['destroy'];
}
