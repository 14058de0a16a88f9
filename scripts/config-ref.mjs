#!/usr/bin/env node
// Writes docs/configuration.md from the configuration schemas (built in dist/; `npm run config-ref`
// builds first); with --check, exits 1 when the committed file differs from what the schemas say.
// Usage: node scripts/config-ref.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

for (const a of process.argv.slice(2)) {
  if (a !== '--check') {
    process.stderr.write(`config-ref: unknown argument ${a}\nusage: node scripts/config-ref.mjs [--check]\n`);
    process.exit(3);
  }
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { configurationReference } = await import(path.join(root, 'dist/cli/config-reference.js'));
const file = path.join(root, 'docs/configuration.md');
const text = configurationReference();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {}
  if (current !== text) {
    console.error(
      'docs/configuration.md is out of date with the schemas: run npm run build && npm run config-ref',
    );
    process.exit(1);
  }
  console.log('docs/configuration.md is up to date');
} else {
  writeFileSync(file, text);
  console.log(`wrote ${path.relative(process.cwd(), file) || file}`);
}
