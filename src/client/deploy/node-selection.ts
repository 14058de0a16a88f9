import { statSync } from 'node:fs';
import { KaployError } from '../../common/errors.js';
import { expandRange, MAX_NODES, parseNodeFile } from '../../formats/node-names.js';
import { readBoundedFile } from '../read-bounded-file.js';

/**
 * A node file's largest size: an OAR node file repeats each host once per core, so 100,000
 * nodes' worth of lines is a few tens of MB at most.
 */
export const MAX_NODE_FILE_BYTES = 32 * 1024 * 1024;

export interface SelectNodesOptions {
  warn?: (msg: string) => void;
  signal?: AbortSignal | undefined;
  /** Reads `-f -` (standard input, bounded, by default). */
  readStdin?: () => Promise<string> | string;
}

/**
 * Nodes from -m (repeatable, ranges) and -f (files, `-` = stdin), duplicates folded as OAR node
 * files repeat each host once per core. At most MAX_NODES in all, counted before expanding.
 */
export async function selectNodes(
  machines: readonly string[],
  files: readonly string[],
  o: SelectNodesOptions = {},
): Promise<string[]> {
  const seen = new Set<string>();
  const add = (names: readonly string[], from: string) => {
    for (const n of names) seen.add(n);
    if (seen.size > MAX_NODES)
      throw new KaployError('KAPLOY_NODE_LIST', `${from}: more than ${MAX_NODES.toLocaleString('en')} nodes`);
  };
  const nodeFiles = [...files];
  for (const m of machines) {
    // The tutorial writes `kadeploy3 -m $OAR_FILE_NODES ...`: a path is never a host name, so a
    // -m value naming an existing file is read as a node file, with a warning.
    if (/[/]/.test(m) && isFile(m)) {
      o.warn?.(`-m ${m}: this is a file, reading it as a node file (use -f FILE)`);
      nodeFiles.push(m);
      continue;
    }
    add(expandRange(m, MAX_NODES - seen.size), `-m ${m}`);
  }
  for (const f of nodeFiles) {
    const text =
      f === '-' && o.readStdin
        ? await o.readStdin()
        : await readBoundedFile(f, { limit: MAX_NODE_FILE_BYTES, what: 'node file', signal: o.signal });
    add(parseNodeFile(text, f === '-' ? '<stdin>' : f, MAX_NODES - seen.size), f);
  }
  if (seen.size === 0) {
    throw new KaployError(
      'KAPLOY_NODE_LIST',
      'no node given: use -m NODE or -f FILE (e.g. -f $OAR_NODE_FILE)',
    );
  }
  return [...seen];
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
