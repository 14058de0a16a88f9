import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { CONFIG_KINDS } from '../../../src/cli/config-kinds.js';
import { newAjv, validatorDigest } from '../../../src/common/config/ajv-instance.js';
import { precompiledSource } from '../../../src/common/config/precompile.js';

// Loads generated CommonJS without writing a file: ajv's runtime helpers resolve from here.
function load(code: string): ValidateFunction & { digest?: string } {
  const module = { exports: {} as ValidateFunction & { digest?: string } };
  new Function('module', 'exports', 'require', code)(module, module.exports, createRequire(import.meta.url));
  return module.exports;
}

const samples: unknown[] = [
  null,
  {},
  { site: 'x', clusters: [{ name: 'c', nodes: [] }], wait_reboot: { poll_ms: 5 } },
  { engine_url: 3, restore: { concurrency: 0 } },
  { servers: { a: { url: 'ftp://x' } }, default: 5 },
  { name: 'deb', image: { file: '/x', kind: 'fsa', compression: 'rar' }, version: 'three' },
];

describe('precompiled configuration validators (npm run build)', () => {
  it.each(CONFIG_KINDS.map((k) => [k.validator.precompiled, k] as const))(
    '%s: behaves as the one compiled at run time and carries its digest',
    (_name, { schema, validator }) => {
      const pre = load(precompiledSource(schema, validator));
      expect(pre.digest).toBe(validatorDigest(schema, validator));
      const now = newAjv(validator).compile(schema);
      for (const sample of samples) {
        const [a, b] = [structuredClone(sample), structuredClone(sample)];
        expect(pre(a)).toBe(now(b));
        expect(a).toEqual(b); // the same defaults filled, the same values coerced
        const errs = (v: ValidateFunction) => v.errors?.map((e) => [e.keyword, e.instancePath, e.schemaPath]);
        expect(errs(pre)).toEqual(errs(now));
      }
    },
  );

  it('a schema change makes the digest differ, so a stale build is not trusted', () => {
    const { schema, validator } = CONFIG_KINDS[1]!;
    const changed = { ...schema, required: ['engine_url'] };
    expect(validatorDigest(changed, validator)).not.toBe(validatorDigest(schema, validator));
  });
});
