import { connect } from 'node:net';
import { KaployError } from '../../common/errors.js';

/**
 * Whether a TCP connection to host:port is accepted within `timeoutMs`: how the engine tells that a
 * node's SSH server (and the deployment environment's marker port) is up. Refused, unreachable or
 * silent all mean "not open"; only bad arguments and an abort are errors.
 */
export function isPortOpen(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (typeof host !== 'string' || host === '' || /[\s\x00-\x1f\x7f/]/.test(host)) {
    return Promise.reject(
      new KaployError('KAPLOY_OPTION', `invalid host for a port check: ${JSON.stringify(host)}`),
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return Promise.reject(new KaployError('KAPLOY_OPTION', `invalid port for a port check: ${port}`));
  }
  // Node's timers fire at once beyond 2^31-1 ms.
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0 && timeoutMs <= 2_147_483_647)) {
    return Promise.reject(new KaployError('KAPLOY_OPTION', `invalid port check timeout: ${timeoutMs} ms`));
  }
  const aborted = () =>
    new KaployError('KAPLOY_EXECUTE', `port check of ${host}:${port} aborted`, { cause: signal?.reason });
  if (signal?.aborted) return Promise.reject(aborted());
  return new Promise<boolean>((resolve, reject) => {
    const socket = connect({ host, port });
    const finish = (open: boolean | Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {}); // late errors from the destroyed socket
      socket.destroy();
      if (open instanceof Error) reject(open);
      else resolve(open);
    };
    const onAbort = () => finish(aborted());
    const timer = setTimeout(() => finish(false), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
