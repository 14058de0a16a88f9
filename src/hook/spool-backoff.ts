/**
 * When to try again to deliver a spooled restore request: 5 s after the first failure, doubling,
 * at most 10 min apart. Pure, so the schedule is tested without waiting.
 */
const SPOOL_FIRST_DELAY_MS = 5_000;
const SPOOL_MAX_DELAY_MS = 600_000;

export function spoolRetryDelayMs(failedAttempts: number): number {
  if (failedAttempts <= 0) return 0;
  return Math.min(SPOOL_FIRST_DELAY_MS * 2 ** Math.min(failedAttempts - 1, 30), SPOOL_MAX_DELAY_MS);
}
