import { KaployError } from '../../common/errors.js';

/** -M runs on every configured server: options naming one server or one operation conflict with it (exit 3). */
export function refuseWithMultiServer(multi: boolean | undefined, given: Record<string, unknown>): void {
  if (!multi) return;
  const bad = Object.entries(given)
    .filter(([, v]) => v !== undefined && v !== false)
    .map(([k]) => k);
  if (bad.length > 0) {
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      `-M/--multi-server cannot be used with ${bad.join(', ')} (one per site)`,
    );
  }
}
