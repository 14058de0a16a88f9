// Types of fuzz.mjs (the reliability runner's scenario interface), for the TypeScript tests.
import type { FuzzFailure } from '../fuzz/checks.mjs';

declare const scenario: {
  name: 'fuzz';
  run(opts?: {
    short?: boolean;
    signal?: AbortSignal;
    log?: (line: string) => void;
    seed?: number;
    sizes?: { parser: number; archives: number; http: number; kadeploy: number };
  }): Promise<{
    runs: number;
    passed: number;
    dataLost: number;
    stuckNodes: number;
    internalErrors: number;
    seed: number;
    failures: FuzzFailure[];
  }>;
};
export default scenario;
