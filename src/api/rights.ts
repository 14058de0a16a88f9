import { KaployError } from '../common/errors.js';
import { PARTITION_PATTERN } from './schemas.js';

/** One right: `user` may act on `node` (or '*') for `partition` (or '*'); GET /rights returns these. */
export interface RightRow {
  user: string;
  node: string;
  partition: string;
}

/** Partitions as Kadeploy names them (`/dev/sda3`), a partition number, or '*' (any). */
const PARTITION_RE = new RegExp(PARTITION_PATTERN);

/** Checked by karights3 before asking: the engine's /rights schema refuses the same names. */
export function assertPartition(p: string): string {
  if (!PARTITION_RE.test(p)) {
    throw new KaployError(
      'KAPLOY_OPTION',
      `invalid partition '${p}': expected /dev/NAME, a partition number or '*'`,
    );
  }
  return p;
}
