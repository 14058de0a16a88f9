import { KaployError } from '../common/errors.js';
import { type BootTarget, parseProfile } from './pxe-profile.js';

/** pxelinux keywords accepted in a -w profile; anything else (INCLUDE, CONFIG, MENU...) is refused. */
const KEYWORDS = new Set([
  'DEFAULT',
  'LABEL',
  'KERNEL',
  'LINUX',
  'APPEND',
  'COM32',
  'LOCALBOOT',
  'PROMPT',
  'TIMEOUT',
  'SAY',
]);
/** A TFTP-relative path: no absolute path, no `..`, no spaces or shell/pxelinux specials. */
const TFTP_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._+/-]{1,255}$/;
const PARAM = /^[A-Za-z0-9._+/:=,@-]{1,255}$/;

function bad(line: number, msg: string): KaployError {
  return new KaployError('KAPLOY_FILE', `PXE profile line ${line}: ${msg}`, { line });
}

/**
 * Validates a user's PXE profile (kareboot3 -r set_pxe -w FILE) and returns what it boots. The
 * engine writes the profile re-rendered from this target, so nothing the parser did not check
 * reaches the boot directory (INCLUDE of another node's file, a kernel outside the TFTP root...).
 */
export function checkPxeProfile(text: string): BootTarget {
  if (text.includes('\0')) throw bad(1, 'binary content');
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s*(.*)$/.exec(line);
    const key = (m?.[1] ?? '').toUpperCase();
    const val = m?.[2] ?? '';
    if (!KEYWORDS.has(key)) throw bad(i + 1, `unsupported keyword '${m?.[1] ?? ''}'`);
    if ((key === 'KERNEL' || key === 'LINUX') && !TFTP_PATH.test(val))
      throw bad(i + 1, `kernel '${val}' must be a path relative to the TFTP root, without '..'`);
    if (key === 'COM32' && !/^chain\.c32$/.test(val)) throw bad(i + 1, 'only COM32 chain.c32 is supported');
    if (key === 'APPEND') {
      for (const w of val.split(/\s+/).filter(Boolean)) {
        if (!PARAM.test(w)) throw bad(i + 1, `APPEND parameter '${w}' has unsupported characters`);
        if (w.startsWith('initrd=') && !TFTP_PATH.test(w.slice(7)))
          throw bad(i + 1, `initrd '${w.slice(7)}' must be a path relative to the TFTP root, without '..'`);
      }
    }
  });
  const normalised = text.replace(/^\s*LINUX\s/gim, 'KERNEL ');
  const target = parseProfile(normalised);
  if (!target)
    throw new KaployError(
      'KAPLOY_FILE',
      'the PXE profile boots nothing: give KERNEL+APPEND initrd=..., COM32 chain.c32 + APPEND hd0 N, or LOCALBOOT 0',
    );
  if (target.kind === 'deploy_env' && !target.initrd)
    throw new KaployError('KAPLOY_FILE', 'the PXE profile names a kernel but no initrd (APPEND initrd=FILE)');
  return target;
}
