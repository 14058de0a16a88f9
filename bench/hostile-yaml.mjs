#!/usr/bin/env node
// Parse time of hostile YAML descriptions (docs/fuzzing.md): the documents the fuzzers found
// slow or crashing, each at the 256 KiB a description may have, through parseDescription (the
// path of kaenv3 -a and POST /environments). Prints the median of --runs runs and the load.
// Usage: npm run build && node bench/hostile-yaml.mjs [--runs 5]
import os from 'node:os';
import { parseDescription } from '../dist/formats/environment/parse.js';

const i = process.argv.indexOf('--runs');
const RUNS = i > 0 ? Number(process.argv[i + 1]) : 5;
const SIZE = 250_000;

const DOCUMENTS = {
  'quotes on one line (`{"a"` then 250,000 `"`)': `{"nodes"${'"'.repeat(SIZE)}`,
  'flow nesting (`[` x 250,000)': `name: ${'['.repeat(SIZE)}`,
  'block sequence nesting (`- ` x 125,000)': `${'- '.repeat(SIZE / 2)}x`,
  'compact mappings (`/b: ` x 60,000)': `name: x\nboot:\n  hypervisor: ${'/b: '.repeat(SIZE / 4)}x\n`,
  'a valid description, 4,000 lines of comments': `${'# a comment line of some length\n'.repeat(4000)}name: x\nos: other\nimage: {file: x.dd.gz, kind: dd, compression: gzip}\n`,
};

console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const [what, text] of Object.entries(DOCUMENTS)) {
  const times = [];
  let outcome = '';
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    try {
      parseDescription(text, 'bench.yaml');
      outcome = 'accepted';
    } catch (e) {
      outcome = `${e.code ?? e.name}: ${e.message.slice(0, 70)}`;
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(`${what}: median ${times[Math.floor(RUNS / 2)].toFixed(1)} ms (${outcome})`);
}
console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
