#!/usr/bin/env node
// Writes the engine's OpenAPI document (docs/openapi.json) from the route schemas, or with --check
// fails (exit 1) when the committed one is stale. Run after the build: `npm run openapi [-- --check]`.
// Usage: node scripts/openapi.mjs [--check] [--file FILE]
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function usage(message) {
  process.stderr.write(`openapi: ${message}\nusage: node scripts/openapi.mjs [--check] [--file FILE]\n`);
  process.exit(3);
}

let check = false;
let file = path.join(ROOT, 'docs', 'openapi.json');
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--check') check = true;
  else if (args[i] === '--file') {
    if (args[i + 1] === undefined) usage('--file needs a file name');
    file = path.resolve(args[++i]);
  } else usage(`unknown argument ${args[i]}`);
}

const { checkOpenApiFile, writeOpenApiFile } = await import(
  path.join(ROOT, 'dist', 'engine', 'server', 'openapi.js')
);
try {
  if (check) await checkOpenApiFile(file);
  else await writeOpenApiFile(file);
} catch (e) {
  process.stderr.write(`openapi: ${e.message}\n`);
  process.exit(1);
}
process.stdout.write(`${check ? 'up to date' : 'written'}: ${path.relative(process.cwd(), file) || file}\n`);
