import { existsSync, readFileSync, statSync } from 'node:fs';
import { KaployError } from '../../common/errors.js';
import { expandRange, parseNodeFile, uniqueNodes } from '../../formats/node-names.js';

/**
 * Nodes from -m (repeatable, ranges) and -f (files, `-` = stdin), duplicates folded as OAR node
 * files repeat each host once per core.
 */
export function selectNodes(
  machines: readonly string[],
  files: readonly string[],
  readStdin: () => string,
  warn: (msg: string) => void = () => {},
): string[] {
  const out: string[] = [];
  const nodeFiles = [...files];
  for (const m of machines) {
    // The tutorial writes `kadeploy3 -m $OAR_FILE_NODES ...`: a path is never a host name, so a
    // -m value naming an existing file is read as a node file, with a warning.
    if (/[/]/.test(m) && existsSync(m) && statSync(m).isFile()) {
      warn(`-m ${m}: this is a file, reading it as a node file (use -f FILE)`);
      nodeFiles.push(m);
      continue;
    }
    out.push(...expandRange(m));
  }
  for (const f of nodeFiles) {
    let text: string;
    try {
      text = f === '-' ? readStdin() : readFileSync(f, 'utf8');
    } catch (e) {
      throw new KaployError(
        'KAPLOY_FILE',
        `cannot read node file ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        { file: f },
      );
    }
    out.push(...parseNodeFile(text, f === '-' ? '<stdin>' : f));
  }
  const nodes = uniqueNodes(out);
  if (nodes.length === 0) {
    throw new KaployError(
      'KAPLOY_NODE_LIST',
      'no node given: use -m NODE or -f FILE (e.g. -f $OAR_NODE_FILE)',
    );
  }
  return nodes;
}
