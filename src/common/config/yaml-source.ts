import { isMap, isSeq, LineCounter, type Node, parseDocument, type YAMLError } from 'yaml';
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

/**
 * Deepest nesting a document may have. yaml's parser recurses (and takes time) once per level, so
 * a 256 KiB description of `[[[[...` or `- - - ...` costs seconds of the engine's event loop, and
 * `a: b: c: ...` overflows its stack; the configurations and descriptions kaploy reads nest a
 * handful of levels.
 */
const MAX_NESTING = 64;

/**
 * An upper estimate of the document's nesting, in one pass without parsing: open flow brackets
 * (outside quotes) plus, on each line, the compact block collections it opens (`- - x`, `a: b: c`).
 */
function nestingEstimate(text: string): number {
  let flow = 0;
  let max = 0;
  let quote = '';
  let compact = 0;
  let lineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const next = text[i + 1];
    if (quote !== '') {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '\n') {
      compact = 0;
      lineStart = true;
      continue;
    }
    if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\n')) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    }
    const before = i === 0 ? ' ' : (text[i - 1] as string);
    if ((c === '"' || c === "'") && ' \t[{,:'.includes(before)) quote = c;
    else if (c === '[' || c === '{') flow++;
    else if ((c === ']' || c === '}') && flow > 0) flow--;
    else if ((c === '-' && lineStart) || c === ':' || c === '?') {
      if (next === ' ' || next === '\t') compact++;
    }
    if (c !== ' ' && c !== '\t' && c !== '-') lineStart = false;
    if (flow + compact > max) max = flow + compact;
  }
  return max;
}

/** Why a YAML text is refused before parsing (nested deeper than MAX_NESTING), or undefined. */
export function yamlNestingProblem(text: string): string | undefined {
  return nestingEstimate(text) > MAX_NESTING
    ? `the document nests more than ${MAX_NESTING} levels deep`
    : undefined;
}

/** The first error's message as yaml's prettyErrors words it (`... at line L, column C:`). */
function firstError(text: string, lc: LineCounter, err: YAMLError): YamlSyntaxError {
  const at = err.pos[0];
  if (at === undefined || at < 0) return { message: err.message };
  const { line, col } = lc.linePos(at);
  const start = lc.lineStarts[line - 1] ?? 0;
  let context = text.slice(start, lc.lineStarts[line] ?? text.length).replace(/[\n\r]+$/, '');
  if (line > 1 && /^ *$/.test(context.slice(0, col - 1)))
    context = text.slice(lc.lineStarts[line - 2] ?? 0, start) + context;
  const colon = /[^ ]/.test(context) ? ':' : '';
  return { message: `${err.message} at line ${line}, column ${col}${colon}`, line };
}

/** Parses YAML (duplicate keys refused), keeping node positions for messages. */
export function parseYamlSource(text: string): YamlSource | YamlSyntaxError {
  const tooDeep = yamlNestingProblem(text);
  if (tooDeep !== undefined) return { message: `refused: ${tooDeep}` };
  const lc = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    // prettyErrors off: yaml builds each error's context from its whole line, quadratic in a
    // 256 KiB line of 100,000 errors (`{"a"` and 250,000 quotes: a minute); only the first is
    // shown (firstError).
    doc = parseDocument(text, {
      lineCounter: lc,
      uniqueKeys: true,
      prettyErrors: false,
      // Not printed on the process's stderr: a mapping used as a key (`? {a: 1}`) warned there,
      // on every request carrying one. What is wrong with a document is reported by its checks.
      logLevel: 'error',
    });
  } catch (e) {
    // yaml's parser recurses once per nesting level: `a: b: c: ...` 20,000 times deep overflows
    // the stack (a RangeError) before any syntax error is reported. A bad document, not a crash.
    if (e instanceof RangeError) return { message: 'refused: the document is nested too deeply' };
    throw e;
  }
  const err = doc.errors[0];
  if (err) return firstError(text, lc, err);
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
