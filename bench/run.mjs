#!/usr/bin/env node
// `npm run bench` lists the benchmarks (bench/*.mjs, with the first line of each one's header);
// `npm run bench -- NAME [ARGS...]` runs bench/NAME.mjs with ARGS and exits with its status.
// The benchmarks run the built code (dist/): `npm run bench` builds it first.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Helpers that another bench spawns are not benches of their own. */
const isChild = (header) => /^Child of /.test(header);

function benches() {
  return readdirSync(HERE)
    .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
    .map((f) => {
      const comment = readFileSync(path.join(HERE, f), 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith('#!'))
        .find((l) => l.startsWith('//'));
      return { name: f.slice(0, -'.mjs'.length), header: (comment ?? '').replace(/^\/\/\s*/, '') };
    })
    .filter((b) => !isChild(b.header))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const [name, ...args] = process.argv.slice(2);
const list = benches();
if (name === undefined || name === '--list') {
  const width = Math.max(...list.map((b) => b.name.length));
  process.stdout.write('benchmarks (npm run bench -- NAME [ARGS...]; headers of bench/NAME.mjs say more):\n');
  for (const b of list) process.stdout.write(`  ${b.name.padEnd(width)}  ${b.header}\n`);
  process.exit(0);
}
const bench = list.find((b) => b.name === name || `${b.name}.mjs` === name);
if (!bench) {
  process.stderr.write(`unknown benchmark '${name}': one of ${list.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}
const child = spawn(process.execPath, [path.join(HERE, `${bench.name}.mjs`), ...args], { stdio: 'inherit' });
// Ctrl-C reaches the child through the terminal's process group; a SIGTERM sent to this runner
// alone is passed on, so the bench can clean up its virtual site.
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
