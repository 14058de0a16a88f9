// Types of http.mjs, for the TypeScript tests.
import type { Tally } from './checks.mjs';
import type { Rng } from './grammar.mjs';
export function httpSuite(
  rng: Rng,
  n: number,
  url: string,
  tokens: { user: string; admin: string },
  tally: Tally,
  signal?: AbortSignal,
): Promise<void>;
export function kadeployHttpSuite(
  rng: Rng,
  n: number,
  url: string,
  tokens: { user: string; admin: string },
  tally: Tally,
  signal?: AbortSignal,
): Promise<void>;
