import { KaployError } from '../common/errors.js';

/**
 * Dates for -x/-y. Kadeploy 3.1 takes strictly `yyyy:mm:dd:hh:mm:ss` in local time (the tutorial
 * builds it with `date ... +%Y:%m:%d:%H:%M:%S`); 3.3 takes ISO 8601. Both are accepted, plus a
 * plain epoch in seconds (what the CLI sends to the engine, so the client's time zone decides
 * what "local" means). Returns epoch seconds.
 */
export const DATE_FORMATS =
  'yyyy:mm:dd:hh:mm:ss (local time), ISO 8601 (2011-04-14T08:41:12, 2011-04-14T08:41:12Z, 2011-04-14) or epoch seconds';

const KADEPLOY_RE = /^(\d{4}):(\d{2}):(\d{2}):(\d{2}):(\d{2}):(\d{2})$/;
const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseStatsDate(text: string, option = 'date'): number {
  const s = text.trim();
  if (/^\d{1,12}$/.test(s)) return Number(s);
  const k = KADEPLOY_RE.exec(s);
  if (k) {
    const [y, mo, d, h, mi, se] = k.slice(1).map(Number) as [number, number, number, number, number, number];
    return checked(new Date(y, mo - 1, d, h, mi, se), [y, mo, d, h, mi, se], false, text, option);
  }
  const i = ISO_RE.exec(s);
  if (i) {
    const parts = [i[1], i[2], i[3], i[4] ?? '0', i[5] ?? '0', i[6] ?? '0'].map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const zone = i[7];
    const [y, mo, d, h, mi, se] = parts;
    if (zone === undefined) return checked(new Date(y, mo - 1, d, h, mi, se), parts, false, text, option);
    const utc = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
    const epoch = checked(utc, parts, true, text, option);
    if (zone === 'Z') return epoch;
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    const sign = z?.[1] === '-' ? -1 : 1;
    const offH = Number(z?.[2]);
    const offM = Number(z?.[3]);
    if (offH > 23 || offM > 59) throw invalid(text, option);
    return epoch - sign * (offH * 3600 + offM * 60);
  }
  throw invalid(text, option);
}

/** Refuses dates that Date would silently roll over (2011:02:30 -> March 2). */
function checked(d: Date, p: readonly number[], utc: boolean, text: string, option: string): number {
  const got = utc
    ? [
        d.getUTCFullYear(),
        d.getUTCMonth() + 1,
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
      ]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  // A local time skipped by a DST change moves by an hour; only calendar fields must match.
  const same =
    got.slice(0, 3).every((v, i) => v === p[i]) && (p[3] ?? 0) < 24 && (p[4] ?? 0) < 60 && (p[5] ?? 0) < 60;
  if (!same || Number.isNaN(d.getTime())) throw invalid(text, option);
  return Math.floor(d.getTime() / 1000);
}

function invalid(text: string, option: string): KaployError {
  return new KaployError('KAPLOY_OPTION', `invalid ${option} '${text}': expected ${DATE_FORMATS}`, {
    key: option,
  });
}
