import { setTimeout as sleepTimer } from 'node:timers/promises';

/** A timer handle of a Clock: opaque to its users. */
export type ClockTimer = object;

/**
 * Where the workflow runner takes time from: the real clock in a deployment, a discrete-event one
 * in `kaploy simulate` (src/simulate/scheduler.ts), so both run the same runner and differ only in
 * the clock and the micro-step table (docs/decisions/0032-workflow-clock.md).
 */
export interface Clock {
  /** Milliseconds (an epoch for the real clock, virtual time for the simulator). */
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(t: ClockTimer): void;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
  sleep: (ms, signal) => sleepTimer(ms, undefined, signal ? { signal } : {}),
};
