// How one fuzz case is judged (the contract of docs/fuzzing.md): a valid input is accepted and
// equals what the grammar says it means; a hostile one is refused with a KaployError whose code is
// one of the expected ones; a mutated one (maybe still valid) is either refused that way or
// accepted with a value that passes the suite's invariant. Anything else thrown is an internal
// error: a crash the user would see as "internal error".

/** A fresh count of cases. `failures` keeps the first few, with what is needed to replay them. */
export function createTally(seed) {
  return { seed, runs: 0, passed: 0, internalErrors: 0, failures: [] };
}

const MAX_KEPT = 20;
const show = (input) => {
  const s = typeof input === 'string' ? input : (JSON.stringify(input) ?? String(input));
  return s.length > 300 ? `${s.slice(0, 300)}... (${s.length} chars)` : s;
};

function fail(tally, suite, input, why, internal = false) {
  if (internal) tally.internalErrors++;
  if (tally.failures.length < MAX_KEPT) tally.failures.push({ suite, input: show(input), why });
}

/** The error, or undefined when `fn` returned; `{value}` when it did. */
function attempt(fn) {
  try {
    return { value: fn() };
  } catch (error) {
    return { error };
  }
}

async function attemptAsync(fn) {
  try {
    return { value: await fn() };
  } catch (error) {
    return { error };
  }
}

const describeError = (e) => `${e?.name ?? typeof e}: ${e?.message ?? String(e)}`.slice(0, 300);

/**
 * Judges one outcome. `expect`: 'accept' (check(value) must return undefined), 'refuse' (a
 * KaployError with a code in `codes`), 'either'.
 */
function judge(tally, api, suite, input, r, expect, codes, check) {
  tally.runs++;
  if ('error' in r) {
    const e = r.error;
    if (!(e instanceof api.KaployError)) return fail(tally, suite, input, `crash: ${describeError(e)}`, true);
    if (e.code === 'KAPLOY_INTERNAL') return fail(tally, suite, input, `internal: ${e.message}`, true);
    if (expect === 'accept') return fail(tally, suite, input, `valid input refused: ${e.code} ${e.message}`);
    if (!codes.includes(e.code))
      return fail(tally, suite, input, `code ${e.code}, expected ${codes.join('|')}`);
    if (typeof e.message !== 'string' || e.message.length === 0)
      return fail(tally, suite, input, 'refused without a message');
    tally.passed++;
    return;
  }
  if (expect === 'refuse') return fail(tally, suite, input, `garbage accepted: ${show(r.value)}`);
  const why = check(r.value);
  if (why !== undefined) return fail(tally, suite, input, why);
  tally.passed++;
}

/** Runs one synchronous case. */
export function runCase(tally, api, suite, input, fn, { expect, codes = [], check = () => undefined }) {
  judge(tally, api, suite, input, attempt(fn), expect, codes, check);
}

/** Runs one asynchronous case. */
export async function runCaseAsync(
  tally,
  api,
  suite,
  input,
  fn,
  { expect, codes = [], check = () => undefined },
) {
  judge(tally, api, suite, input, await attemptAsync(fn), expect, codes, check);
}

/** Records a failure found outside a parser call (an HTTP answer, a hang guard). */
export function recordCase(tally, suite, input, why, internal = false) {
  tally.runs++;
  if (why === undefined) tally.passed++;
  else fail(tally, suite, input, why, internal);
}

/** Adds `b` into `a`. */
export function mergeTally(a, b) {
  a.runs += b.runs;
  a.passed += b.passed;
  a.internalErrors += b.internalErrors;
  for (const f of b.failures) if (a.failures.length < MAX_KEPT) a.failures.push(f);
  return a;
}

/** Deep equality of JSON-like values, for round trips. */
export function sameJson(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}
