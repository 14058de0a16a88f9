import { KaployError } from '../common/errors.js';

/** One `SRC::DST` of `kaenv3 --move-files -m SRC::DST,...`: a file or directory prefix. */
export interface FileMove {
  from: string;
  to: string;
}

/** Parses `src1::dst1,src2::dst2` (kaenv3 -m/--files-to-move). */
export function parseFileMoves(spec: string): FileMove[] {
  return spec.split(',').map((item) => {
    const [from, to, ...rest] = item.split('::');
    if (!from || !to || rest.length > 0 || /[\0\r\n]/.test(item)) {
      throw new KaployError(
        'KAPLOY_OPTION',
        `invalid file move '${item}': expected SRC::DST (several separated by commas)`,
      );
    }
    return { from, to };
  });
}
