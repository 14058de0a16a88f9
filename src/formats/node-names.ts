import { KaployError } from '../common/errors.js';

/**
 * Host names and node sets. Kadeploy accepts `\A[A-Za-z0-9.\-\[\],]*\Z` for -m and expands
 * ranges such as `gdx-[5-12,15].site`. Anything else (shell or path characters) is refused here,
 * where the name enters.
 */
const HOST_RE = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$/;

export function isValidHostname(name: string): boolean {
  return HOST_RE.test(name) && !name.includes('..');
}

export function assertHostname(name: string): string {
  if (!isValidHostname(name)) {
    throw new KaployError(
      'KAPLOY_NODE_LIST',
      `invalid node name '${name}': only letters, digits, '.' and '-' are allowed`,
      {
        node: name,
      },
    );
  }
  return name;
}

/**
 * Most names one node list may hold (a range, a node file, every -m together): far above any
 * site, and low enough that expanding it costs milliseconds and a few MB. Counted before any
 * name is made: `a[1-1000]b[1-1000]c[1-1000]` is refused without building 10^9 names.
 */
export const MAX_NODES = 100_000;

/** One bracket group's ranges: from, to, zero-padding width. */
type Ranges = Array<{ from: number; to: number; width: number }>;

const rangeError = (spec: string, why: string) =>
  new KaployError('KAPLOY_NODE_LIST', `invalid node name or range '${spec}': ${why}`, { node: spec });

/** Splits `pre[1-3]mid[5,7]post` into literal text and bracket groups, checking each group. */
function parseRangeSpec(spec: string): Array<string | Ranges> {
  if (spec.length === 0 || spec.length > 1024 || !/^[A-Za-z0-9.\-[\],]*$/.test(spec)) {
    throw new KaployError('KAPLOY_NODE_LIST', `invalid node name or range '${spec.slice(0, 200)}'`, {
      node: spec.slice(0, 200),
    });
  }
  const parts: Array<string | Ranges> = [];
  const re = /\[([^\]]*)\]/g;
  let at = 0;
  for (let m = re.exec(spec); m !== null; m = re.exec(spec)) {
    parts.push(spec.slice(at, m.index));
    const ranges: Ranges = [];
    for (const part of (m[1] ?? '').split(',')) {
      const r = /^(\d{1,9})(?:-(\d{1,9}))?$/.exec(part);
      if (!r) throw rangeError(spec, `bad range '${part}'`);
      const a = r[1] ?? '';
      const from = Number(a);
      const to = r[2] === undefined ? from : Number(r[2]);
      if (to < from) throw rangeError(spec, `bad range '${part}' (end before start)`);
      // Keep zero padding when the lower bound is padded (node-[01-10]).
      ranges.push({ from, to, width: a.startsWith('0') && a.length > 1 ? a.length : 0 });
    }
    parts.push(ranges);
    at = m.index + m[0].length;
  }
  parts.push(spec.slice(at));
  return parts;
}

/** How many names a spec expands to, without expanding it (the product of its groups' sizes). */
function rangeSize(parts: ReadonlyArray<string | Ranges>): number {
  let n = 1;
  for (const p of parts) {
    if (typeof p === 'string') continue;
    n *= p.reduce((sum, r) => sum + r.to - r.from + 1, 0);
  }
  return n;
}

/**
 * Expands `node-[1-3,7].site` into node-1.site node-2.site node-3.site node-7.site, refusing
 * before any work a spec naming more than `max` nodes (MAX_NODES, or what a caller has left).
 */
export function expandRange(spec: string, max: number = MAX_NODES): string[] {
  const parts = parseRangeSpec(spec);
  const size = rangeSize(parts);
  if (size > max) {
    throw new KaployError(
      'KAPLOY_NODE_LIST',
      `node range '${spec}' names ${size.toLocaleString('en')} nodes, more than the ${max.toLocaleString('en')} allowed`,
      { node: spec },
    );
  }
  // Iterative cartesian product: no recursion, so no stack depth grows with the count.
  let names = [''];
  for (const p of parts) {
    if (typeof p === 'string') {
      names = names.map((n) => n + p);
      continue;
    }
    const next: string[] = [];
    for (const n of names) {
      for (const r of p) {
        for (let i = r.from; i <= r.to; i++) next.push(n + String(i).padStart(r.width, '0'));
      }
    }
    names = next;
  }
  return names.map(assertHostname);
}

/**
 * Parses a node file as OAR writes it: one host per line, repeated per core; `#` comments and
 * blank lines ignored. Duplicates are folded, first-seen order kept; more than `max` distinct
 * nodes is refused as soon as it is reached.
 */
export function parseNodeFile(text: string, file = '<nodefile>', max: number = MAX_NODES): string[] {
  const seen = new Set<string>();
  let lineNo = 0;
  for (const raw of text.split(/\r?\n/)) {
    lineNo++;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      // A plain name (OAR's files: one per core) needs no expansion; a range, or a line that is
      // neither (refused by expandRange as "invalid node name or range"), gets what is left.
      if (!line.includes('[') && isValidHostname(line)) seen.add(line);
      else for (const n of expandRange(line, max - seen.size)) seen.add(n);
    } catch (e) {
      throw new KaployError('KAPLOY_NODE_LIST', `${file}:${lineNo}: ${(e as Error).message}`, {
        file,
        line: lineNo,
      });
    }
    if (seen.size > max) {
      throw new KaployError(
        'KAPLOY_NODE_LIST',
        `${file}:${lineNo}: more than ${max.toLocaleString('en')} nodes in the node file`,
        { file, line: lineNo },
      );
    }
  }
  return [...seen];
}
