import { type SimulationInput, simulate } from './simulate.js';

export const MAX_RUNS = 1000;

/** Over seeds seed..seed+runs-1: the mean total, its range, and the expected (mean) KO count. */
export interface Expectation {
  runs: number;
  meanTotalS: number;
  minTotalS: number;
  maxTotalS: number;
  meanKo: number;
  /** Nodes KO in at least one run, with the share of runs they were KO in (most often first, at most 20). */
  oftenKo: { node: string; share: number }[];
}

export async function expectation(
  input: SimulationInput,
  runs: number,
  signal?: AbortSignal,
): Promise<Expectation> {
  const totals: number[] = [];
  let ko = 0;
  const count = new Map<string, number>();
  for (let r = 0; r < runs; r++) {
    signal?.throwIfAborted();
    const res = await simulate({ ...input, seed: input.seed + r });
    totals.push(res.totalS);
    ko += res.ko.length;
    for (const k of res.ko) count.set(k.node, (count.get(k.node) ?? 0) + 1);
  }
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    runs,
    meanTotalS: round(totals.reduce((a, b) => a + b, 0) / runs),
    minTotalS: Math.min(...totals),
    maxTotalS: Math.max(...totals),
    meanKo: round(ko / runs),
    oftenKo: [...count]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 20)
      .map(([node, c]) => ({ node, share: round(c / runs) })),
  };
}
