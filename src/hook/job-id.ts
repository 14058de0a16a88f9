import { KaployError } from '../common/errors.js';

/**
 * OAR job ids are positive integers (a bigint serial in OAR's database). The hooks get the id as
 * their only argument; anything else is refused here, before it reaches oarstat.
 */
export function parseJobId(arg: string | undefined): number {
  if (arg === undefined || arg === '')
    throw new KaployError('KAPLOY_OPTION', 'no OAR job id given (expected one positive integer argument)');
  if (!/^[1-9][0-9]{0,14}$/.test(arg)) {
    throw new KaployError(
      'KAPLOY_OPTION',
      `invalid OAR job id '${printable(arg)}': expected a positive integer`,
    );
  }
  return Number(arg);
}

/** For log lines: a bounded, single-line rendering of untrusted text. */
export function printable(text: string, max = 80): string {
  const flat = text.replace(/[^\x20-\x7e]/g, '?');
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}
