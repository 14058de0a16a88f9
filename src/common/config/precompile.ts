import { createRequire } from 'node:module';
import { newAjv, type ValidatorOptions, validatorDigest } from './ajv-instance.js';
import type { ConfigSchema } from './schema-types.js';

/**
 * The CommonJS source of a schema's standalone validator (ajv's generated code, needing only
 * ajv's small runtime helpers), tagged with the digest loadValidator checks. Used at build time.
 */
export function precompiledSource(schema: ConfigSchema, opts: ValidatorOptions): string {
  const require = createRequire(import.meta.url);
  const standalone = (require('ajv/dist/standalone') as typeof import('ajv/dist/standalone/index.js'))
    .default;
  const ajv = newAjv(opts, { code: { source: true } });
  const code = standalone(ajv, ajv.compile(schema));
  return `${code}\nmodule.exports.digest = ${JSON.stringify(validatorDigest(schema, opts))};\n`;
}
