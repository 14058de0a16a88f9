import type { ClientChannel } from 'ssh2';

interface ChannelInternals {
  type?: string;
  outgoing?: { id: number; state: string };
  _client?: { _protocol?: { signal(id: number, name: string): void } };
}

/**
 * Sends an SSH "signal" channel request (RFC 4254 §6.9). ssh2's `channel.signal()` silently does
 * nothing once the channel is no longer writable, i.e. after we sent EOF on stdin, which is every
 * command without stdin; the protocol allows signals after EOF, so we send the request ourselves
 * while the channel is open. OpenSSH (>= 7.9) delivers it to the session's process group.
 */
export function sendSignal(channel: ClientChannel, name: 'KILL' | 'TERM' | 'INT' | 'HUP'): boolean {
  const ch = channel as unknown as ChannelInternals;
  const state = ch.outgoing?.state;
  const proto = ch._client?._protocol;
  if (ch.type !== 'session' || ch.outgoing === undefined || proto === undefined) {
    channel.signal(name); // internals changed: fall back to the public method
    return false;
  }
  if (state !== 'open' && state !== 'eof') return false;
  proto.signal(ch.outgoing.id, name);
  return true;
}
