import type { Connection, Server } from 'ssh2';
import { keyAccepted, readAuthorizedKeys } from './authorized-keys.js';
import { dispatchExec } from './exec-dispatch.js';
import type { NodeRuntime } from './node-runtime.js';
import { runOnChannel } from './sandbox-channel.js';
import { throttle } from './token-bucket.js';

/**
 * The node's sshd: root only, public keys from the booted system's /root/.ssh/authorized_keys,
 * `exec` (the engine's commands) and `shell` (an interactive sh in the sandbox, for users).
 * `dropOf` finds the TCP socket behind a connection so the drop_connection fault can cut it.
 */
export function serveSessions(
  server: Server,
  rt: NodeRuntime,
  dropOf: (info: { ip: string; port: number }) => () => void,
): void {
  server.on('connection', (client: Connection, info) => {
    const drop = dropOf({ ip: info.ip, port: info.port });
    client.on('error', (e) => rt.logger.debug({ err: e }, 'ssh connection error'));
    client.on('authentication', (ctx) => {
      const system = rt.system();
      if (ctx.method !== 'publickey' || ctx.username !== 'root' || !system) return ctx.reject(['publickey']);
      readAuthorizedKeys(system.authorizedKeys()).then(
        (keys) => {
          const signed = ctx.signature
            ? { blob: ctx.blob as Buffer, signature: ctx.signature, hashAlgo: ctx.hashAlgo }
            : undefined;
          if (keyAccepted(keys, ctx.key, signed)) ctx.accept();
          else ctx.reject(['publickey']);
        },
        () => ctx.reject(['publickey']),
      );
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('pty', (accept) => accept?.());
        session.on('env', (accept) => accept?.());
        session.on('exec', (accept, _reject, req) => dispatchExec(rt, accept(), req.command, drop));
        session.on('shell', (accept) => {
          const system = rt.system();
          const channel = accept();
          if (!system) return void channel.close();
          runOnChannel(rt, system, channel, ['sh', '-i'], channel.pipe(throttle([rt.nicIn])));
        });
      });
    });
  });
}
