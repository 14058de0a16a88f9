/** What kaconsole3 tells the user on start. */
export const ESCAPE_HINT = 'type ~. at the start of a line to leave the console (~~ sends one ~)';

/**
 * Watches typed bytes for `~.` at the start of a line (ssh's escape sequence, which users know):
 * returns the bytes to send on and whether the user asked to leave. Line starts are tracked across
 * chunks, since a terminal in raw mode delivers one key at a time.
 */
export function createEscapeFilter(): (chunk: Buffer) => { send: Buffer; leave: boolean } {
  let atLineStart = true;
  let tilde = false;
  return (chunk) => {
    const out: number[] = [];
    for (const b of chunk) {
      if (tilde) {
        tilde = false;
        if (b === 0x2e) return { send: Buffer.from(out), leave: true }; // '.'
        out.push(0x7e);
        if (b === 0x7e) {
          atLineStart = false;
          continue; // '~~' sends one '~'
        }
      } else if (atLineStart && b === 0x7e) {
        tilde = true;
        continue;
      }
      out.push(b);
      atLineStart = b === 0x0d || b === 0x0a;
    }
    return { send: Buffer.from(out), leave: false };
  };
}
