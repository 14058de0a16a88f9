import { isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { KeyPath } from './key-path.js';

/** A parsed YAML document and where each of its keys was written. */
export interface YamlSource {
  data: unknown;
  /** Line of the deepest node of `path` found in the document (the parent of a missing key). */
  lineOf(path: KeyPath): number | undefined;
}

/** A YAML syntax error: the parser's first message line and its line when it gives one. */
export interface YamlSyntaxError {
  message: string;
  line?: number;
}

/** Aliases a document may expand (yaml's default); configurations and descriptions use a few. */
const MAX_ALIAS_COUNT = 100;

/** Parses YAML (duplicate keys refused), keeping node positions for messages. */
export function parseYamlSource(text: string): YamlSource | YamlSyntaxError {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: true });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line;
    return { message: err.message.split('\n')[0] ?? '', ...(line !== undefined ? { line } : {}) };
  }
  let data: unknown;
  try {
    // An alias bomb (aliases of aliases, 10^9 nodes from a few hundred bytes) is refused by
    // yaml's alias budget with a ReferenceError: a bad document, not an internal error.
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    return { message: `refused: ${(e as Error).message}` };
  }
  const lineOfNode = (node: Node): number | undefined => {
    const start = node.range?.[0];
    return start === undefined ? undefined : lc.linePos(start).line;
  };
  return {
    data,
    lineOf(path) {
      let node: unknown = doc.contents;
      let line = node ? lineOfNode(node as Node) : undefined;
      for (const p of path) {
        if (isMap(node)) node = node.get(p, true);
        else if (isSeq(node) && typeof p === 'number') node = node.get(p, true);
        else break;
        if (node === undefined || node === null) break;
        line = lineOfNode(node as Node) ?? line;
      }
      return line;
    },
  };
}

export function isYamlSyntaxError(x: YamlSource | YamlSyntaxError): x is YamlSyntaxError {
  return !('data' in x);
}
