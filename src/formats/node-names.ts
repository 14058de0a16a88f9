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

/** Expands `node-[1-3,7].site` into node-1.site node-2.site node-3.site node-7.site. */
export function expandRange(spec: string): string[] {
  if (!/^[A-Za-z0-9.\-[\],]*$/.test(spec) || spec.length === 0) {
    throw new KaployError('KAPLOY_NODE_LIST', `invalid node name or range '${spec}'`, { node: spec });
  }
  const m = /^(.*?)\[([^\]]+)\](.*)$/.exec(spec);
  if (!m) return [assertHostname(spec)];
  const [, pre = '', body = '', post = ''] = m;
  const out: string[] = [];
  for (const part of body.split(',')) {
    const r = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!r) throw new KaployError('KAPLOY_NODE_LIST', `invalid range '${part}' in '${spec}'`, { node: spec });
    const a = r[1] ?? '';
    const from = Number(a);
    const to = r[2] === undefined ? from : Number(r[2]);
    if (to < from || to - from > 100_000) {
      throw new KaployError('KAPLOY_NODE_LIST', `invalid range '${part}' in '${spec}'`, { node: spec });
    }
    // Keep zero padding when the lower bound is padded (node-[01-10]).
    const width = a.startsWith('0') && a.length > 1 ? a.length : 0;
    for (let i = from; i <= to; i++) {
      for (const name of expandRange(`${pre}${String(i).padStart(width, '0')}${post}`)) out.push(name);
    }
  }
  return out;
}

/**
 * Parses a node file as OAR writes it: one host per line, repeated per core; `#` comments and
 * blank lines ignored. Duplicates are folded, first-seen order kept.
 */
export function parseNodeFile(text: string, file = '<nodefile>'): string[] {
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      for (const n of expandRange(line)) seen.add(n);
    } catch (e) {
      throw new KaployError('KAPLOY_NODE_LIST', `${file}:${i + 1}: ${(e as Error).message}`, {
        file,
        line: i + 1,
      });
    }
  });
  return [...seen];
}

/** Folds duplicates keeping the first occurrence. */
export function uniqueNodes(names: Iterable<string>): string[] {
  return [...new Set(names)];
}
