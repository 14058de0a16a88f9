// Types of checks.mjs, for the TypeScript tests.
export interface FuzzFailure {
  suite: string;
  input: string;
  why: string;
}
export interface Tally {
  seed: number;
  runs: number;
  passed: number;
  internalErrors: number;
  failures: FuzzFailure[];
}
export function createTally(seed: number): Tally;
export function mergeTally(a: Tally, b: Tally): Tally;
export function recordCase(
  tally: Tally,
  suite: string,
  input: unknown,
  why: string | undefined,
  internal?: boolean,
): void;
export function runCase(
  tally: Tally,
  api: { KaployError: abstract new (...args: never[]) => Error },
  suite: string,
  input: unknown,
  fn: () => unknown,
  how: {
    expect: 'accept' | 'refuse' | 'either';
    codes?: string[];
    check?: (value: never) => string | undefined;
  },
): void;
export function runCaseAsync(
  tally: Tally,
  api: { KaployError: abstract new (...args: never[]) => Error },
  suite: string,
  input: unknown,
  fn: () => Promise<unknown>,
  how: {
    expect: 'accept' | 'refuse' | 'either';
    codes?: string[];
    check?: (value: never) => string | undefined;
  },
): Promise<void>;
export function sameJson(a: unknown, b: unknown): boolean;
