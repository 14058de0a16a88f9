import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { descriptionError, type Locator } from './description-error.js';
import { normaliseDescription } from './normalise.js';
import type { ParsedDescription } from './types.js';

/** Parses a YAML 3.x description; errors name the file, line and key. */
export function parseYamlDescription(text: string, file: string): ParsedDescription {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: true });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line;
    throw descriptionError(
      file,
      line === undefined ? undefined : { key: '(yaml)', line },
      `not valid YAML: ${err.message.split('\n')[0]}`,
    );
  }
  const locate: Locator = (path) => {
    // Walk as deep as the path exists; report the deepest node found (the parent of a missing key).
    let node: unknown = doc.contents;
    let line: number | undefined = node ? lineOf(node as Node, lc) : undefined;
    for (const p of path) {
      if (isMap(node)) node = node.get(p, true);
      else if (isSeq(node) && typeof p === 'number') node = node.get(p, true);
      else break;
      if (node === undefined) break;
      line = lineOf(node as Node, lc) ?? line;
    }
    return { key: formatPath(path), ...(line !== undefined ? { line } : {}) };
  };
  return normaliseDescription(doc.toJS(), file, locate, 'yaml');
}

function lineOf(node: Node, lc: LineCounter): number | undefined {
  const start = node.range?.[0];
  return start === undefined ? undefined : lc.linePos(start).line;
}

function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(top)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
