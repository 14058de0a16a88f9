import { closeSync, constants, fstatSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import type { OperationOutcome } from '../../api/operation-status.js';
import { errorMessage, KaployError } from '../../common/errors.js';
import { fileKind } from '../read-bounded-file.js';

/** The -o/-n files of kadeploy3, kareboot3 and kapower3. */
export interface NodeFiles {
  outputOk?: string | undefined;
  outputKo?: string | undefined;
  /** After the operation a file that cannot be written is a warning: the operation's code stands. */
  warn?: ((message: string) => void) | undefined;
}

// O_NONBLOCK: opening a FIFO for writing would otherwise wait for a reader (and ignore Ctrl-C).
const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_NONBLOCK | constants.O_NOCTTY;

const fileError = (flag: string, file: string, why: string) =>
  new KaployError('KAPLOY_FILE', `${flag} ${file}: ${why}`, { file });

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code ?? errorMessage(e);

/**
 * -o/-n must name different files (Kadeploy), and each must be a regular file this user can
 * append to, or one it can create: checked before anything is asked of a server, so an
 * unwritable path is a bad command line (exit 3) and never a result lost after the operation.
 */
export function checkNodeFiles(o: NodeFiles): void {
  if (o.outputOk && o.outputKo && o.outputOk === o.outputKo)
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      '-o/--output-ok-nodes and -n/--output-ko-nodes must name different files',
    );
  if (o.outputOk) checkWritable('-o', o.outputOk);
  if (o.outputKo) checkWritable('-n', o.outputKo);
}

function checkWritable(flag: string, file: string): void {
  let exists = true;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw fileError(flag, file, `${fileKind(st)}, not a regular file`);
  } catch (e) {
    if (e instanceof KaployError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw fileError(flag, file, `cannot write: ${errno(e)}`);
    exists = false;
  }
  let fd: number;
  try {
    // A missing file is created to prove it can be, then removed: nothing is left if the run is refused.
    fd = exists
      ? openSync(file, APPEND)
      : openSync(file, APPEND | constants.O_CREAT | constants.O_EXCL, 0o644);
  } catch (e) {
    throw fileError(flag, file, `cannot write: ${errno(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw fileError(flag, file, `${fileKind(st)}, not a regular file`);
  } finally {
    closeSync(fd);
    if (!exists) unlinkSync(file);
  }
}

/**
 * Appends the OK and KO nodes to the -o/-n files: Kadeploy opens them in append mode; both exist
 * afterwards even when empty, so scripts can `cat` them. Cancelled nodes were not done: KO file.
 */
export function appendNodeFiles(o: NodeFiles, outcomes: readonly OperationOutcome[]): void {
  const lines = (pick: (s: OperationOutcome['status']) => boolean) =>
    outcomes
      .filter((x) => pick(x.status))
      .map((x) => `${x.node}\n`)
      .join('');
  if (o.outputOk)
    append(
      o,
      '-o',
      o.outputOk,
      lines((s) => s === 'ok'),
    );
  if (o.outputKo)
    append(
      o,
      '-n',
      o.outputKo,
      lines((s) => s === 'ko' || s === 'cancelled'),
    );
}

function append(o: NodeFiles, flag: string, file: string, text: string): void {
  try {
    const fd = openSync(file, APPEND | constants.O_CREAT, 0o644);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new Error(`${fileKind(st)}, not a regular file`);
      const buf = Buffer.from(text);
      for (let at = 0; at < buf.length; ) at += writeSync(fd, buf, at);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    // Checked before the operation: this is a file removed or replaced since, or a full disk.
    const err = fileError(flag, file, `cannot write the nodes: ${errno(e)}`);
    if (!o.warn) throw err;
    o.warn(err.message);
  }
}
