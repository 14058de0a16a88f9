import type { Connection, Server } from 'ssh2';
import { keyAccepted, readAuthorizedKeys } from './authorized-keys.js';
import { dispatchExec } from './exec-dispatch.js';
import type { NodeRuntime } from './node-runtime.js';
import { runOnChannel } from './sandbox-channel.js';
import { throttle } from './token-bucket.js';

const MAX_SESSIONS = 10;

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
    // A client asks whether its key would do, then signs (two requests per login): the keys are
    // read once per connection and system, not at each request.
    let read: { system: object; keys: ReturnType<typeof readAuthorizedKeys> } | undefined;
    client.on('authentication', (ctx) => {
      const system = rt.system();
      if (ctx.method !== 'publickey' || ctx.username !== 'root' || !system) return ctx.reject(['publickey']);
      if (read?.system !== system) read = { system, keys: readAuthorizedKeys(system.authorizedKeys()) };
      read.keys.then(
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
    let sessions = 0;
    client.on('ready', () => {
      client.on('session', (acceptSession, rejectSession) => {
        // As OpenSSH's MaxSessions: the engine must bound its channels per connection.
        if (sessions >= MAX_SESSIONS) return rejectSession();
        sessions++;
        const session = acceptSession();
        session.once('close', () => sessions--);
        let kill: (() => void) | undefined;
        session.on('pty', (accept) => accept?.());
        session.on('env', (accept) => accept?.());
        // A signal kills the command's whole sandbox (its status then reports KILL).
        session.on('signal', (accept) => {
          accept?.();
          kill?.();
        });
        session.on('exec', (accept, _reject, req) => {
          const channel = accept();
          // A client that goes away mid-write must not take the daemon (and every node) down.
          channel.on('error', (e: Error) => rt.logger.debug({ err: e }, 'channel error'));
          channel.stderr.on('error', () => {});
          kill = dispatchExec(rt, channel, req.command, drop);
        });
        session.on('shell', (accept) => {
          const system = rt.system();
          const channel = accept();
          channel.on('error', (e: Error) => rt.logger.debug({ err: e }, 'channel error'));
          channel.stderr.on('error', () => {});
          if (!system) return void channel.close();
          kill = runOnChannel(rt, system, channel, ['sh', '-i'], channel.pipe(throttle([rt.nicIn])));
        });
      });
    });
  });
}
