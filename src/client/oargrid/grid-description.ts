import { KaployError } from '../../common/errors.js';

/** One `ALIAS:rdef="…"[:prop="…"]` of an oargridsub description. */
export interface GridRequest {
  alias: string;
  /** OAR's resource hierarchy, as `oarsub -l` takes it without walltime: `nodes=2`, `/nodes=2/core=1`. */
  rdef: string;
  /** An SQL condition on the resources' properties, ANDed with the alias's cluster. */
  prop?: string;
}

/** Bounds on what one command line may ask: a description is typed by a user, not generated. */
const MAX_DESCRIPTION_CHARS = 16_384;
const MAX_REQUESTS = 64;
const MAX_PROP_CHARS = 1024;
const MAX_COUNT = 100_000;

const ALIAS = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const RDEF_LEVEL = /^[a-z_][a-z0-9_]{0,31}=(\d{1,6}|ALL|BEST)$/;

const bad = (message: string) =>
  new KaployError('KAPLOY_OPTION', `${message}; expected ALIAS:rdef="nodes=N"[:prop="SQL"],...`);

/**
 * Splits `text` on `sep` outside quotes and parentheses: a property such as
 * `cluster IN ('a','b')` keeps its commas (the shell has already removed the double quotes the
 * tutorial writes around it).
 */
function splitTop(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let cur = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === sep && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (quote) throw bad(`unbalanced ${quote} in '${text}'`);
  if (depth !== 0) throw bad(`unbalanced parentheses in '${text}'`);
  parts.push(cur);
  return parts;
}

/** `"x"` -> `x`: the quotes the tutorial writes, when a user single-quotes the whole description. */
const unquote = (v: string) => (v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v);

function checkRdef(alias: string, rdef: string): string {
  const levels = rdef.replace(/^\//, '').split('/');
  for (const level of levels) {
    const m = RDEF_LEVEL.exec(level);
    if (!m)
      throw bad(
        `${alias}: malformed rdef '${rdef}' (each level NAME=COUNT, e.g. nodes=2 or /nodes=2/core=1)`,
      );
    const count = m[1] as string;
    if (/^\d+$/.test(count) && (Number(count) < 1 || Number(count) > MAX_COUNT)) {
      throw bad(
        `${alias}: rdef '${rdef}' asks ${count} of ${level.split('=')[0]}; expected 1 to ${MAX_COUNT}`,
      );
    }
  }
  return levels.join('/');
}

/**
 * The property reaches OAR's SQL inside `-l "{...}/nodes=N"`: OAR checks the SQL itself, so only
 * what would break out of that request is refused here (braces end OAR's `{}`; a statement end or
 * a comment is never part of a condition), and its size.
 */
function checkProp(alias: string, prop: string): string {
  if (prop.trim() === '') throw bad(`${alias}: empty prop`);
  if (prop.length > MAX_PROP_CHARS) throw bad(`${alias}: prop longer than ${MAX_PROP_CHARS} characters`);
  if (!/^[\x20-\x7e]*$/.test(prop)) throw bad(`${alias}: prop has a character that is not printable ASCII`);
  const why = /[{};\\]/.exec(prop)?.[0] ?? (/--|\/\*/.exec(prop)?.[0] as string | undefined);
  if (why !== undefined)
    throw bad(`${alias}: prop '${prop}' has '${why}', which no OAR property condition needs`);
  if ((prop.match(/'/g)?.length ?? 0) % 2 !== 0) throw bad(`${alias}: unbalanced ' in prop '${prop}'`);
  return prop;
}

function parseOne(item: string): GridRequest {
  const [alias = '', ...fields] = splitTop(item, ':');
  if (!ALIAS.test(alias))
    throw bad(`'${alias.slice(0, 64)}' is not an alias name (letters, digits, - and _)`);
  let rdef: string | undefined;
  let prop: string | undefined;
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    const value = unquote(eq < 0 ? '' : field.slice(eq + 1));
    if (key === 'rdef' && rdef === undefined) rdef = checkRdef(alias, value);
    else if (key === 'prop' && prop === undefined) prop = checkProp(alias, value);
    else if (key === 'rdef' || key === 'prop') throw bad(`${alias}: ${key} given twice`);
    else throw bad(`${alias}: unknown field '${key.slice(0, 32)}' (rdef and prop are known)`);
  }
  if (rdef === undefined) throw bad(`${alias}: no rdef`);
  return { alias, rdef, ...(prop === undefined ? {} : { prop }) };
}

/** oargridsub's DESC (one argument, or several joined by commas), checked before any site is asked. */
export function parseGridDescription(args: readonly string[]): GridRequest[] {
  const text = args.join(',');
  if (text.trim() === '') throw bad('no description');
  if (text.length > MAX_DESCRIPTION_CHARS)
    throw bad(`description longer than ${MAX_DESCRIPTION_CHARS} characters`);
  const items = splitTop(text, ',').filter((i) => i !== '');
  if (items.length > MAX_REQUESTS) throw bad(`${items.length} requests; at most ${MAX_REQUESTS}`);
  const requests = items.map(parseOne);
  const seen = new Set<string>();
  for (const r of requests) {
    if (seen.has(r.alias)) throw bad(`alias ${r.alias} given twice`);
    seen.add(r.alias);
  }
  return requests;
}
