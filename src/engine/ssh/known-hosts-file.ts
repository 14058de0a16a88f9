import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { KaployError } from '../../common/errors.js';
import type { HostKeyStore, HostKeyVerdict } from './host-key-store.js';
import {
  entryMatches,
  formatKnownHostsLine,
  hostEntryName,
  parseKnownHostsLine,
} from './known-hosts-format.js';

export interface KnownHostsFileOptions {
  /**
   * SSH port of the nodes. When given, lookups follow OpenSSH exactly (`name` on 22, `[name]:port`
   * otherwise) and learnt keys are written in that form. When omitted, `name` and `[name]:<any>`
   * both match and keys are written as plain `name`.
   */
  port?: number;
}

/**
 * A HostKeyStore backed by an OpenSSH known_hosts file, so the testbed can write one and a person
 * can `ssh -o UserKnownHostsFile=...` with the same pins. The file is read once; `learn` and
 * `forget` rewrite it atomically (tmp + rename), keeping every unrelated line verbatim.
 */
export class KnownHostsFile implements HostKeyStore {
  private lines: string[];

  constructor(
    readonly path: string,
    private readonly opts: KnownHostsFileOptions = {},
  ) {
    if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port > 0 && opts.port < 65536)) {
      throw new KaployError('KAPLOY_CONFIG', `invalid SSH port ${opts.port} for known hosts file ${path}`, {
        file: path,
      });
    }
    this.lines = readLines(path);
  }

  verify(node: string, key: Buffer): HostKeyVerdict {
    const names = this.namesOf(node);
    let seen = false;
    for (const line of this.lines) {
      const e = parseKnownHostsLine(line);
      if (e === undefined || !this.applies(e, node, names)) continue;
      if (e.key.equals(key)) return 'match';
      seen = true;
    }
    return seen ? 'mismatch' : 'unknown';
  }

  learn(node: string, key: Buffer): void {
    const name = this.opts.port === undefined ? node : hostEntryName(node, this.opts.port);
    this.rewrite([...this.linesWithout(node), formatKnownHostsLine(name, key)]);
  }

  /** Drops every pin of a node (every line naming it), e.g. before it boots another system. */
  forget(node: string): void {
    this.rewrite(this.linesWithout(node));
  }

  private namesOf(node: string): string[] {
    return this.opts.port === undefined ? [node] : [hostEntryName(node, this.opts.port)];
  }

  private applies(
    e: ReturnType<typeof parseKnownHostsLine> & object,
    node: string,
    names: string[],
  ): boolean {
    if (entryMatches(e, names)) return true;
    // Without a configured port, `[node]:port` pins written by anyone else still apply.
    return this.opts.port === undefined && e.patterns.some((p) => p.startsWith(`[${node}]:`));
  }

  private linesWithout(node: string): string[] {
    const names = this.namesOf(node);
    return this.lines.filter((l) => {
      const e = parseKnownHostsLine(l);
      return e === undefined || !this.applies(e, node, names);
    });
  }

  private rewrite(lines: string[]): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, lines.length === 0 ? '' : `${lines.join('\n')}\n`, { mode: 0o644 });
      renameSync(tmp, this.path);
    } catch (e) {
      throw new KaployError(
        'KAPLOY_FILE',
        `cannot write known hosts file ${this.path}: ${(e as Error).message}`,
        {
          file: this.path,
          cause: e,
        },
      );
    }
    this.lines = lines;
  }
}

function readLines(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new KaployError('KAPLOY_FILE', `cannot read known hosts file ${path}: ${(e as Error).message}`, {
      file: path,
      cause: e,
    });
  }
  return text.split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));
}
