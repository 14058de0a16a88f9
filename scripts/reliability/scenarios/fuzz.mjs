// Reliability scenario "fuzz": the grammar-driven fuzz suites (scripts/reliability/fuzz/) against
// the build: every parser of outside input, the image content check, and the HTTP API of a real
// engine on a port. A case passes when a valid input is accepted (and round-trips) and a hostile
// one is refused with a KaployError / a 4xx JSON error; a crash, a 5xx or KAPLOY_INTERNAL counts
// as an internal error. The seed is printed; KAPLOY_FUZZ_SEED replays a run.
// Alone: npm run build && node scripts/reliability/scenarios/fuzz.mjs [--short] [--seed N]
import path from 'node:path';
import { createTally, mergeTally } from '../fuzz/checks.mjs';
import { loadDistApi } from '../fuzz/dist-api.mjs';
import { startDistEngine } from '../fuzz/dist-engine.mjs';
import { createRng } from '../fuzz/grammar.mjs';
import { httpSuite, kadeployHttpSuite } from '../fuzz/http.mjs';
import { archiveSuite, PARSER_SUITES, postinstallSuite } from '../fuzz/suites.mjs';

const root = path.resolve(import.meta.dirname, '../../..');

/** Cases per suite: short (the CI's run, a few thousand in all) and full. */
const SIZES = {
  short: { parser: 400, archives: 100, http: 400, kadeploy: 200 },
  full: { parser: 20_000, archives: 2_000, http: 10_000, kadeploy: 3_000 },
};

function seedOf(given) {
  if (given !== undefined) return given;
  const env = process.env.KAPLOY_FUZZ_SEED;
  if (env !== undefined && /^\d{1,10}$/.test(env)) return Number(env);
  return Math.floor(Math.random() * 2 ** 31);
}

// `sizes` (cases per suite, as in SIZES) is for the scenario's own test; the runner passes
// `short`, `signal` and `log` only.
async function run({
  short = false,
  signal = new AbortController().signal,
  log = console.log,
  seed: given,
  sizes,
} = {}) {
  const seed = seedOf(given);
  const size = sizes ?? (short ? SIZES.short : SIZES.full);
  log(`fuzz: seed ${seed} (KAPLOY_FUZZ_SEED=${seed} replays it), ${short ? 'short' : 'full'} run`);
  const api = await loadDistApi(root);
  const total = createTally(seed);
  const report = (name, t) => {
    log(`fuzz: ${name}: ${t.passed}/${t.runs} passed, ${t.internalErrors} internal errors`);
    for (const f of t.failures.slice(0, 5)) log(`fuzz:   ${f.suite}: ${f.why} <- ${f.input}`);
    mergeTally(total, t);
  };
  let i = 0;
  let dataLost = 0;
  for (const [name, suite] of Object.entries(PARSER_SUITES)) {
    if (signal.aborted) break;
    const t = createTally(seed);
    // Each suite its own stream from the seed, so adding a suite does not change the others' cases.
    suite(createRng(seed + 7919 * ++i), size.parser, api, t);
    report(name, t);
  }
  if (!signal.aborted) {
    const t = createTally(seed);
    await archiveSuite(createRng(seed + 104_729), size.archives, api, t, signal);
    report('archives', t);
  }
  if (!signal.aborted) {
    const t = createTally(seed);
    await postinstallSuite(createRng(seed + 1_299_709), size.archives, api, t, signal);
    report('postinstall archives', t);
  }
  if (!signal.aborted) {
    const engine = await startDistEngine(root);
    try {
      const t = createTally(seed);
      await httpSuite(createRng(seed + 15_485_863), size.http, engine.url, engine.tokens, t, signal);
      report('http', t);
      const k = createTally(seed);
      await kadeployHttpSuite(
        createRng(seed + 32_452_843),
        size.kadeploy,
        engine.kadeployUrl,
        engine.tokens,
        k,
        signal,
      );
      report('http kadeploy', k);
      dataLost = await engine.lost();
      if (dataLost > 0) log('fuzz: the admin environment kept through the HTTP fuzz was lost or changed');
    } finally {
      await engine.close();
    }
  }
  // No node is touched (the HTTP users have no rights on nodes, nothing is deployed): no node
  // can be left stuck. The data is the admin's environment added before the HTTP fuzz.
  return {
    runs: total.runs,
    passed: total.passed,
    dataLost,
    stuckNodes: 0,
    internalErrors: total.internalErrors,
    seed,
    failures: total.failures,
  };
}

export default { name: 'fuzz', run };

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const i = process.argv.indexOf('--seed');
  const r = await run({
    short: process.argv.includes('--short'),
    ...(i > 0 ? { seed: Number(process.argv[i + 1]) } : {}),
  });
  console.log(
    `fuzz: ${r.passed}/${r.runs} cases passed, ${r.internalErrors} internal errors, seed ${r.seed}`,
  );
  process.exitCode = r.passed === r.runs ? 0 : 1;
}
