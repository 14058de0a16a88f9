import { parseDate } from './oar-output.js';
import type { SiteRunner } from './site-runner.js';

/** How a site's clock differs from ours: what its oarsub -r reads a date with. */
export interface SiteClock {
  /** Site clock minus ours, whole seconds (0 within date's one-second resolution). */
  skewS: number;
  /** The site's UTC offset in minutes (its local time is what oarsub -r reads). */
  offsetMin: number;
}

/**
 * One `date '+%s %z'` on the site, halfway between our clock before and after (the round trip
 * over ssh is the uncertainty). `date` prints whole seconds: the site's clock lies in
 * [s, s+1), so its middle is compared, and a difference of a second or less is no skew.
 */
export async function measureClock(
  site: string,
  run: SiteRunner,
  signal: AbortSignal | undefined,
  now: () => number = Date.now,
): Promise<SiteClock> {
  const before = now();
  const r = await run(['date', '+%s %z'], signal ? { signal } : {});
  const after = now();
  const { epochS, offsetMin } = parseDate(site, r);
  const skewMs = epochS * 1000 + 500 - (before + after) / 2;
  const skewS = Math.abs(skewMs) <= 1000 ? 0 : Math.round(skewMs / 1000);
  return { skewS, offsetMin };
}

/** `startMs` (our clock) as the site's local `YYYY-MM-DD hh:mm:ss`, skew corrected. */
export function siteStartText(startMs: number, clock: SiteClock): string {
  const d = new Date(Math.floor(startMs / 1000) * 1000 + clock.skewS * 1000 + clock.offsetMin * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
