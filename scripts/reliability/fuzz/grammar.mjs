// A small seeded generator for grammar-driven fuzzing (no dependency: docs/fuzzing.md says why).
// `createRng(seed)` gives the same sequence for the same seed, so a failing case is replayed by
// its seed and index. Generators are plain functions `(rng) => value`; mutators turn a valid text
// into a likely-invalid one. Sizes are bounded: no generated input exceeds MAX_INPUT characters.

/** Largest text a generator or mutator produces (parsers bound far below this or refuse it). */
export const MAX_INPUT = 300_000;

/** mulberry32: tiny, fast, good enough spread for picking grammar branches. */
export function createRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng = {
    seed,
    next,
    /** Integer in [lo, hi]. */
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (p) => next() < p,
    /** `n` characters from `alphabet`. */
    chars: (alphabet, lo, hi) => {
      const n = rng.int(lo, hi);
      let s = '';
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)];
      return s;
    },
    /** Items from `gen`, lo..hi of them. */
    many: (gen, lo, hi) => Array.from({ length: rng.int(lo, hi) }, () => gen(rng)),
  };
  return rng;
}

export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const DIGITS = '0123456789';
export const ALNUM = `${LOWER}${LOWER.toUpperCase()}${DIGITS}`;

/** Characters and fragments a hostile user types: shell, path, control, quoting, Unicode, format. */
export const HOSTILE = [
  ';',
  '|',
  '&',
  '$(id)',
  '`id`',
  '>',
  '<',
  '*',
  '?',
  '~',
  '!',
  '#',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '\0',
  '\x1b[2J',
  '\x7f',
  '../',
  '/',
  '\\',
  '"',
  "'",
  '%00',
  '%2e%2e',
  '{',
  '}',
  '[',
  ']',
  '[[',
  ']]',
  ':',
  '::',
  ',',
  ',,',
  '-',
  '--',
  '=',
  '+',
  '@',
  '\u00e9',
  '\u202e',
  '\ud83d\ude00',
  '\ufeff',
  '\ud800',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, sent as text
  '${HOME}',
  '%s%n',
  '=cmd|',
  '99999999999999999999',
  '-1',
  '0x',
  '1e309',
  'NaN',
  '__proto__',
  'constructor',
  '&&',
  '||',
];

/** One random mutation of `text`: insert, delete, duplicate, swap, truncate or blow up. */
function mutate(rng, text) {
  const at = rng.int(0, text.length);
  const end = Math.min(text.length, at + rng.int(1, 8));
  switch (rng.int(0, 9)) {
    case 0:
      return text.slice(0, at) + rng.pick(HOSTILE) + text.slice(at);
    case 1:
      return text.slice(0, at) + text.slice(end);
    case 2:
      return text.slice(0, at) + rng.pick(HOSTILE) + text.slice(end);
    case 3: {
      // Duplicate a span many times: long lines, deep nesting, huge counts.
      const span = text.slice(at, end) || 'x';
      const times = rng.pick([2, 10, 1000, Math.floor(MAX_INPUT / 2 / span.length)]);
      return (text.slice(0, at) + span.repeat(times) + text.slice(at)).slice(0, MAX_INPUT);
    }
    case 4:
      return text.slice(0, at);
    case 5: {
      // Replace a digit run by an extreme number.
      return text.replace(/\d+/, () => rng.pick(['0', '00', '999999999', '4294967296', '1'.repeat(40)]));
    }
    case 6: {
      const b = rng.int(0, text.length);
      const c = text.split('');
      [c[at], c[b]] = [c[b], c[at]];
      return c.join('');
    }
    case 7:
      return text.slice(0, at) + String.fromCharCode(rng.int(0, 0xffff)) + text.slice(at);
    case 8:
      return text.toUpperCase();
    default:
      return `${rng.pick(HOSTILE)}${text}${rng.pick(HOSTILE)}`;
  }
}

/** 1..`max` mutations in a row. */
export function mutateMany(rng, text, max = 3) {
  let out = text;
  for (let i = rng.int(1, max); i > 0; i--) out = mutate(rng, out);
  return out.slice(0, MAX_INPUT);
}
