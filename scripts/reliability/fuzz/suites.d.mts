// Types of suites.mjs, for the TypeScript tests. The parsers are typed loosely on purpose: the
// suites feed them hostile values their own types do not allow.
import type { Tally } from './checks.mjs';
import type { Rng } from './grammar.mjs';

// biome-ignore lint/suspicious/noExplicitAny: the suites call the parsers with hostile values
type Fn = (...args: any[]) => any;
export interface FuzzApi {
  KaployError: abstract new (...args: never[]) => Error;
  expandRange: Fn;
  parseNodeFile: Fn;
  MAX_NODES: number;
  foldNodes: Fn;
  parseForceSteps: Fn;
  formatPlan: Fn;
  MACRO_STEPS: readonly string[];
  IMPLEMENTATIONS: Readonly<Record<string, readonly string[]>>;
  parseBreakpoint: Fn;
  plannedSteps: Fn;
  parseDescription: Fn;
  printDescription: Fn;
  parseStatsDate: Fn;
  parseFields: Fn;
  STATS_FIELDS: readonly string[];
  parseStatsQuery: Fn;
  parseOarstatJson: Fn;
  checkImageContent: Fn;
  runPostinstall: Fn;
}
export type Suite = (rng: Rng, n: number, api: FuzzApi, tally: Tally) => void;
export const PARSER_SUITES: Readonly<Record<string, Suite>>;
export function archiveSuite(
  rng: Rng,
  n: number,
  api: FuzzApi,
  tally: Tally,
  signal?: AbortSignal,
): Promise<void>;
export function postinstallSuite(
  rng: Rng,
  n: number,
  api: FuzzApi,
  tally: Tally,
  signal?: AbortSignal,
): Promise<void>;
export function genNodeSpec(rng: Rng): { text: string; names: string[] };
