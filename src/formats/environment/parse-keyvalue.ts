import { descriptionError, type KeyLocation, type Locator, warningAt } from './description-error.js';
import { normaliseDescription } from './normalise.js';
import type { Compression, ParsedDescription } from './types.js';

/**
 * The Kadeploy 3.1 key/value format the tutorial prints and edits:
 *   name : squeeze-x64-base
 *   tarball : /grid5000/images/squeeze-x64-base-1.1.tgz|tgz
 *   postinstall : /grid5000/postinstalls/post.tgz|tgz|traitement.ash /rambin
 * Lines are `key : value`; blank lines and `#` comments are ignored. The keys are mapped onto the
 * YAML 3.x shape and validated by the same code, errors naming the key/value key and its line.
 */
export const TARBALL_KINDS: Record<string, { kind: 'tar' | 'dd'; compression: Compression }> = {
  tgz: { kind: 'tar', compression: 'gzip' },
  tbz2: { kind: 'tar', compression: 'bzip2' },
  txz: { kind: 'tar', compression: 'xz' },
  tzst: { kind: 'tar', compression: 'zstd' },
  ddgz: { kind: 'dd', compression: 'gzip' },
  ddbz2: { kind: 'dd', compression: 'bzip2' },
  ddxz: { kind: 'dd', compression: 'xz' },
  ddzst: { kind: 'dd', compression: 'zstd' },
};
const ARCHIVE_KINDS: Record<string, Compression> = { tgz: 'gzip', tbz2: 'bzip2', txz: 'xz', tzst: 'zstd' };

const SIMPLE = ['name', 'version', 'description', 'author', 'visibility', 'filesystem'];
const BOOT = ['kernel', 'initrd', 'kernel_params', 'hypervisor', 'hypervisor_params'];

/** Which key/value key a YAML-shaped path came from, for messages. */
function kvKeyFor(path: readonly (string | number)[]): string {
  const [top, sub] = path;
  if (top === 'image') return 'tarball';
  if (top === 'postinstalls') return 'postinstall';
  if (top === 'preinstall') return 'preinstall';
  if (top === 'boot' && typeof sub === 'string') return sub;
  if (top === 'partition_type') return 'fdisktype';
  if (top === 'os') return 'environment_kind';
  if (top === 'destructive') return 'demolishing_env';
  return typeof top === 'string' ? top : '(top)';
}

export function looksLikeKeyValue(text: string): boolean {
  return /^\s*tarball\s*:/m.test(text) && !/^image\s*:/m.test(text);
}

export function parseKeyValueDescription(text: string, file: string): ParsedDescription {
  const lines = new Map<string, number>();
  const values = new Map<string, string>();
  const warnings: string[] = [];
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\w+)\s*:\s*(.*)$/.exec(line);
    if (!m)
      throw descriptionError(
        file,
        { key: '(line)', line: i + 1 },
        `expected 'key : value', got '${line.slice(0, 60)}'`,
      );
    const key = m[1] as string;
    if (values.has(key))
      throw descriptionError(
        file,
        { key, line: i + 1 },
        `duplicate key (first given on line ${lines.get(key)})`,
      );
    lines.set(key, i + 1);
    values.set(key, (m[2] as string).trim());
  });
  const at = (key: string): KeyLocation => ({
    key,
    ...(lines.has(key) ? { line: lines.get(key) as number } : {}),
  });
  const fail = (key: string, msg: string): never => {
    throw descriptionError(file, at(key), msg);
  };

  const raw: Record<string, unknown> = {};
  const boot: Record<string, string> = {};
  for (const [key, value] of values) {
    if (SIMPLE.includes(key)) raw[key] = value;
    else if (BOOT.includes(key)) boot[key] = value;
    else if (key === 'tarball') {
      const [f, k, md5, ...rest] = value.split('|');
      const spec = TARBALL_KINDS[k ?? ''];
      if (!f || !spec || rest.length > 0 || (md5 !== undefined && !/^[0-9a-f]{32}$/.test(md5))) {
        fail(
          key,
          `'${value}' is not valid: expected FILE|KIND with KIND one of ${Object.keys(TARBALL_KINDS).join(', ')}`,
        );
      }
      raw.image = { file: f, ...spec };
    } else if (key === 'preinstall') raw.preinstall = archive(value, key, fail);
    else if (key === 'postinstall')
      raw.postinstalls = value.split(',').map((v) => archive(v.trim(), key, fail));
    else if (key === 'fdisktype') raw.partition_type = value;
    else if (key === 'environment_kind') raw.os = value;
    else if (key === 'demolishing_env') raw.destructive = value;
    else warnings.push(warningAt(file, at(key), 'Unused field (unknown key, ignored)'));
  }
  if (Object.keys(boot).length > 0) raw.boot = boot;
  for (const k of ['name', 'tarball']) if (!values.has(k)) fail(k, 'is mandatory');

  const locate: Locator = (path) => at(kvKeyFor(path));
  const parsed = normaliseDescription(raw, file, locate, 'keyvalue');
  return { env: parsed.env, warnings: [...warnings, ...parsed.warnings] };
}

function archive(value: string, key: string, fail: (key: string, msg: string) => never) {
  const [f, k, ...script] = value.split('|');
  const compression = ARCHIVE_KINDS[k ?? ''];
  if (!f || !compression)
    fail(key, `'${value}' is not valid: expected FILE|KIND|SCRIPT with KIND one of tgz, tbz2, txz, tzst`);
  return { archive: f, compression, script: script.join('|') || 'none' };
}
