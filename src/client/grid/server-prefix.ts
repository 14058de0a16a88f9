import { Writable } from 'node:stream';
import { csvField } from '../../stats/csv-encode.js';

/**
 * Kadeploy's multi-server output rule (reference §1): every line a server produces is prefixed
 * with its name, `sprintf("%-10s", "[name] ")`, so a user can grep one site out of the merged log.
 */
export function serverPrefix(name: string): string {
  return `[${name}] `.padEnd(10);
}

/**
 * kastat3 -M's prefix: the server's name as an added first CSV field (quoted and neutralised as
 * kastat3 writes every field, docs/kastat3.md), so every record of the merged CSV says its site.
 */
export function csvServerPrefix(name: string): string {
  return `${csvField(name)},`;
}

/** Where a unit of output ends: a line, or a CSV record (a LF outside double quotes, RFC 4180). */
export type Unit = 'line' | 'csv-record';

/**
 * A stream that writes whole units (lines, or CSV records whose quoted fields may hold newlines),
 * each prefixed, to `target`. Partial units wait for their end so two sites writing at once never
 * interleave inside one; `end()` flushes what is left (a last unit without its LF gets one).
 */
export function prefixedLines(
  target: { write(text: string): unknown },
  prefix: string,
  unit: Unit = 'line',
): Writable {
  let pending = '';
  // csv-record: whether the end of `pending` is inside a quoted field (quotes seen so far are odd).
  let quoted = false;
  let scanned = 0;
  const emit = (text: string) => {
    if (text !== '') target.write(text);
  };
  const lastBoundary = (): number => {
    if (unit === 'line') return pending.lastIndexOf('\n');
    let cut = -1;
    for (let i = scanned; i < pending.length; i++) {
      const c = pending.charCodeAt(i);
      if (c === 34) quoted = !quoted;
      else if (c === 10 && !quoted) cut = i;
    }
    scanned = pending.length;
    return cut;
  };
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const cut = lastBoundary();
      if (cut >= 0) {
        const done = pending.slice(0, cut);
        pending = pending.slice(cut + 1);
        scanned = pending.length;
        emit(
          splitUnits(done, unit)
            .map((l) => `${prefix}${l}\n`)
            .join(''),
        );
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

/** `text` holds whole units without their last LF: split it at the unit boundaries. */
function splitUnits(text: string, unit: Unit): string[] {
  if (unit === 'line') return text.split('\n');
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === 10 && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}
