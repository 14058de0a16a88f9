import type { Readable } from 'node:stream';
import type { ServerChannel } from 'ssh2';

/** Sends the exit status (a number, or a signal name) and closes the channel, unless the client already did. */
export function finishChannel(
  channel: ServerChannel,
  code: number | null,
  signal?: NodeJS.Signals | null,
): void {
  if (channel.destroyed || (channel as unknown as { closed?: boolean }).closed) return;
  try {
    if (code === null && signal) channel.exit(signal.replace(/^SIG/, ''), false, '');
    else channel.exit(code ?? 1);
    channel.end();
  } catch {
    // the connection went away meanwhile
  }
}

export function writeStderr(channel: ServerChannel, text: string): void {
  if (!channel.destroyed) channel.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Reads a stream to its end, refusing more than `max` bytes. */
export function readAll(s: Readable, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    s.on('data', (d: Buffer) => {
      size += d.length;
      if (size > max) {
        s.destroy();
        reject(new Error(`input larger than ${max} bytes`));
      } else chunks.push(d);
    });
    s.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    s.on('error', reject);
  });
}
