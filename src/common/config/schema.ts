import type { ErrorObject, ValidateFunction } from 'ajv';
import { loadValidator, type ValidatorOptions } from './ajv-instance.js';
import type { KeyPath } from './key-path.js';
import type { ConfigSchema } from './schema-types.js';

/** The first problem the schema step found: where, and what is expected. */
export interface SchemaProblem {
  path: KeyPath;
  message: string;
}

export interface SchemaOptions extends ValidatorOptions {
  /** How a missing required key is reported (the key's own `message.required` wins). */
  missing?: string;
}

export interface CompiledSchema {
  readonly schema: ConfigSchema;
  /** Validates (and, with useDefaults, fills) `data`; the first problem, or undefined. */
  check(data: unknown): SchemaProblem | undefined;
}

export function compileSchema(schema: ConfigSchema, opts: SchemaOptions = {}): CompiledSchema {
  let validate: ValidateFunction | undefined;
  return {
    schema,
    check(data) {
      // Compiled on first use: a program that never reads this file pays nothing.
      validate ??= loadValidator(schema, opts);
      if (validate(data)) return undefined;
      const problems = (validate.errors ?? []).map((e) => toProblem(e, data, opts.missing ?? 'is mandatory'));
      return firstProblem(problems, schema) ?? { path: [], message: 'invalid' };
    },
  };
}

/**
 * The problem of the key that comes first in the schema's order of properties (the order the
 * reference documents them in): a wrong `engine_url` is reported before a missing
 * `admin_token_file`, whatever order the validator found them in.
 */
function firstProblem(problems: SchemaProblem[], schema: ConfigSchema): SchemaProblem | undefined {
  const rank = (path: KeyPath): number[] => {
    const out: number[] = [];
    let s: ConfigSchema | undefined = schema;
    for (const seg of path) {
      if (typeof seg === 'number') {
        out.push(seg);
        s = s?.items;
      } else {
        const keys = Object.keys(s?.properties ?? {});
        const i = keys.indexOf(seg);
        out.push(i < 0 ? keys.length : i);
        s =
          i < 0
            ? typeof s?.additionalProperties === 'object'
              ? s.additionalProperties
              : undefined
            : s?.properties?.[seg];
      }
    }
    return out;
  };
  const before = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++)
      if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number);
    return a.length < b.length;
  };
  let best: { p: SchemaProblem; r: number[] } | undefined;
  for (const p of problems) {
    const r = rank(p.path);
    if (!best || before(r, best.r)) best = { p, r };
  }
  return best?.p;
}

function toProblem(err: ErrorObject, root: unknown, missing: string): SchemaProblem {
  const path = pointerToPath(err.instancePath, root);
  const parent = (err.parentSchema ?? {}) as ConfigSchema;
  if (err.keyword === 'required') {
    const key = String(err.params.missingProperty);
    const child = parent.properties?.[key];
    const own = typeof child?.message === 'object' ? child.message.required : undefined;
    return { path: [...path, key], message: own ?? missing };
  }
  if (err.keyword === 'additionalProperties') {
    return { path: [...path, String(err.params.additionalProperty)], message: 'unknown key' };
  }
  // `message['enum:fsa']`: a value refused for a reason of its own (a known but unsupported kind).
  const own =
    typeof parent.message === 'string'
      ? parent.message
      : (parent.message?.[`${err.keyword}:${String(err.data)}`] ?? parent.message?.[err.keyword]);
  const text = own ?? genericMessage(err, parent);
  return { path, message: fill(text, err.data, parent) };
}

function genericMessage(err: ErrorObject, s: ConfigSchema): string {
  switch (err.keyword) {
    case 'type':
      return `expected ${typeWords(String(err.params.type))}`;
    case 'enum':
      return `'{value}' is not valid: expected one of ${(s.enum ?? []).map(String).join(', ')}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum': {
      const what = typeWords(String(Array.isArray(s.type) ? s.type[0] : (s.type ?? 'number')));
      if (s.maximum === undefined) return `expected ${what} from {minimum}`;
      return `expected ${what} from {minimum} to {maximum}`;
    }
    case 'minItems':
      return s.minItems === 1 ? 'expected a non-empty list' : `expected at least ${s.minItems} items`;
    case 'minLength':
      return 'expected a non-empty string';
    case 'pattern':
      return `'{value}' is not valid (expected ${s.pattern})`;
    default:
      return err.message ?? 'invalid';
  }
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'nothing',
};

function typeWords(types: string): string {
  return types
    .split(',')
    .map((t) => TYPE_WORDS[t] ?? t)
    .join(' or ');
}

function fill(text: string, value: unknown, s: ConfigSchema): string {
  const show = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  return text
    .replaceAll('{value}', show(value))
    .replaceAll('{minimum}', String(s.minimum ?? s.exclusiveMinimum ?? ''))
    .replaceAll('{maximum}', String(s.maximum ?? ''));
}

/** `/clusters/0/nodes` -> ['clusters', 0, 'nodes'] (an index only where the document has a list). */
function pointerToPath(pointer: string, root: unknown): KeyPath {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) {
      out.push(Number(seg));
      node = node[Number(seg)];
    } else {
      out.push(seg);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}
