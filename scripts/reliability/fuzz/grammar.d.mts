// Types of grammar.mjs, for the TypeScript tests.
export const MAX_INPUT: number;
export interface Rng {
  readonly seed: number;
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  chars(alphabet: string, lo: number, hi: number): string;
  many<T>(gen: (rng: Rng) => T, lo: number, hi: number): T[];
}
export function createRng(seed: number): Rng;
export const LOWER: string;
export const DIGITS: string;
export const ALNUM: string;
export const HOSTILE: readonly string[];
export function mutateMany(rng: Rng, text: string, max?: number): string;
