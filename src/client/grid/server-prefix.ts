import { Writable } from 'node:stream';

/**
 * Kadeploy's multi-server output rule (reference §1): every line a server produces is prefixed
 * with its name, `sprintf("%-10s", "[name] ")`, so a user can grep one site out of the merged log.
 */
export function serverPrefix(name: string): string {
  return `[${name}] `.padEnd(10);
}

/**
 * A stream that writes whole lines, each prefixed, to `target`. Partial lines wait for their end so
 * two sites writing at once never interleave inside a line; `end()` flushes what is left.
 */
export function prefixedLines(target: { write(text: string): unknown }, prefix: string): Writable {
  let pending = '';
  const emit = (text: string) => {
    if (text !== '') target.write(text);
  };
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const cut = pending.lastIndexOf('\n');
      if (cut >= 0) {
        const lines = pending.slice(0, cut).split('\n');
        pending = pending.slice(cut + 1);
        emit(lines.map((l) => `${prefix}${l}\n`).join(''));
      }
      cb();
    },
    final(cb) {
      if (pending !== '') emit(`${prefix}${pending}\n`);
      pending = '';
      cb();
    },
  });
}
