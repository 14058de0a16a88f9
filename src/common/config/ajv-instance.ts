import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv, Options, ValidateFunction } from 'ajv';
import type { ConfigSchema } from './schema-types.js';

/** What the schema step does besides checking, fixed when the validator is built. */
export interface ValidatorOptions {
  /** Fill `default`s into the document (missing, null or '' values), as the normalise step expects. */
  useDefaults?: boolean;
  /** Accept "25300" for an integer and 5 for a string (the site configuration always did). */
  coerceTypes?: boolean;
  /**
   * Name of the validator `npm run build` precompiles into dist (scripts/precompile-validators.mjs):
   * building one at run time costs a short-lived program (a hook, a command) ~40 ms to load ajv and
   * ~50 ms to compile; the precompiled one loads in ~3 ms.
   */
  precompiled?: string;
}

const require = createRequire(import.meta.url);

function ajvOptions(opts: ValidatorOptions): Options {
  return {
    // All errors, to report the first in the file's documented key order (see firstProblem).
    allErrors: true,
    verbose: true,
    strict: true,
    strictTypes: false,
    allowUnionTypes: true,
    useDefaults: opts.useDefaults ? 'empty' : false,
    coerceTypes: opts.coerceTypes === true,
  };
}

/** A new ajv knowing our annotation keywords (loaded only when a validator is built). */
export function newAjv(opts: ValidatorOptions, extra: Options = {}): Ajv {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  const ajv = new AjvClass({ ...ajvOptions(opts), ...extra });
  ajv.addKeyword({ keyword: 'message', schemaType: ['string', 'object'] });
  ajv.addKeyword({ keyword: 'defaultText', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'typeText', schemaType: 'string' });
  return ajv;
}

/** Identifies a schema and the options its validator was built with. */
export function validatorDigest(schema: ConfigSchema, opts: ValidatorOptions): string {
  return createHash('sha256')
    .update(JSON.stringify({ schema, ajv: ajvOptions(opts) }))
    .digest('hex');
}

/** @public Where the build writes a precompiled validator (scripts/precompile-validators.mjs, from dist). */
export function precompiledPath(name: string): string {
  return new URL(`./precompiled/${name}.cjs`, import.meta.url).pathname;
}

const instances = new Map<string, Ajv>();

/**
 * The precompiled validator when the build made one for exactly this schema and these options,
 * else one compiled now (tests run from the sources; a stale build is never trusted).
 */
export function loadValidator(schema: ConfigSchema, opts: ValidatorOptions): ValidateFunction {
  if (opts.precompiled) {
    const file = precompiledPath(opts.precompiled);
    if (existsSync(file)) {
      const mod = require(file) as ValidateFunction & { digest?: string };
      if (mod.digest === validatorDigest(schema, opts)) return mod;
    }
  }
  const id = `${opts.useDefaults === true} ${opts.coerceTypes === true}`;
  let ajv = instances.get(id);
  if (!ajv) {
    ajv = newAjv(opts);
    instances.set(id, ajv);
  }
  return ajv.compile(schema);
}
