#!/usr/bin/env node
// Part of `npm run build`: writes each configuration schema's standalone validator into
// dist/common/config/precompiled/, so short-lived programs (OAR hooks, commands) load a validator
// instead of ajv's compiler. A missing or stale one is compiled at run time instead.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const { CONFIG_KINDS } = await import(path.join(dist, 'cli/config-kinds.js'));
const { precompiledSource } = await import(path.join(dist, 'common/config/precompile.js'));
const { precompiledPath } = await import(path.join(dist, 'common/config/ajv-instance.js'));
for (const { schema, validator } of CONFIG_KINDS) {
  const file = precompiledPath(validator.precompiled);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, precompiledSource(schema, validator));
}
