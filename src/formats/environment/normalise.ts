import { descriptionError, type Locator, warningAt } from './description-error.js';
import {
  type ArchiveSpec,
  COMPRESSIONS,
  type Compression,
  type DescriptionFormat,
  type Environment,
  OS_KINDS,
  type OsKind,
  type ParsedDescription,
  VISIBILITIES,
  type Visibility,
} from './types.js';

/**
 * Validates a description shaped like the YAML 3.x format (the key/value parser maps its keys onto
 * this shape first) and returns the normalised environment. Each problem names its key, its line
 * and what is expected; unknown keys are warnings ("Unused field"), as in Kadeploy.
 */
type Raw = Record<string, unknown>;
type Path = (string | number)[];

export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const KNOWN_TOP = [
  'name',
  'version',
  'description',
  'author',
  'visibility',
  'destructive',
  'os',
  'image',
  'preinstall',
  'postinstalls',
  'boot',
  'filesystem',
  'partition_type',
  'multipart',
  'options',
  'user',
];

class Checker {
  readonly warnings: string[] = [];
  constructor(
    readonly file: string,
    readonly locate: Locator,
  ) {}

  fail(path: Path, msg: string): never {
    throw descriptionError(this.file, this.locate(path), msg);
  }

  warn(path: Path, msg: string): void {
    this.warnings.push(warningAt(this.file, this.locate(path), msg));
  }

  map(v: unknown, path: Path): Raw {
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      this.fail(path, 'expected a mapping of keys');
    return v as Raw;
  }

  unknownKeys(o: Raw, known: readonly string[], path: Path): void {
    for (const k of Object.keys(o))
      if (!known.includes(k)) this.warn([...path, k], 'Unused field (unknown key, ignored)');
  }

  /** A one-line text value: newlines and NUL bytes are refused (values end up in files and commands). */
  text(
    o: Raw,
    k: string,
    path: Path,
    opts: { required?: boolean; def?: string; what?: string } = {},
  ): string | undefined {
    const v = o[k];
    if (v === undefined || v === null || v === '') {
      if (opts.required) this.fail([...path, k], `is mandatory (expected ${opts.what ?? 'a string'})`);
      return opts.def;
    }
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      this.fail([...path, k], `expected ${opts.what ?? 'a string'}`);
    const s = String(v);
    if (/[\0\r\n]/.test(s)) this.fail([...path, k], 'must be a single line');
    return s;
  }

  oneOf<T extends string>(o: Raw, k: string, path: Path, allowed: readonly T[], def?: T): T {
    const s =
      this.text(o, k, path, { required: def === undefined, what: `one of ${allowed.join(', ')}` }) ?? def;
    if (!allowed.includes(s as T))
      this.fail([...path, k], `'${s}' is not valid: expected one of ${allowed.join(', ')}`);
    return s as T;
  }

  bool(o: Raw, k: string, path: Path): boolean {
    const v = o[k];
    if (v === undefined || v === null) return false;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === '1' || v === 1) return true;
    if (v === 'false' || v === '0' || v === 0) return false;
    return this.fail([...path, k], `'${String(v)}' is not valid: expected true or false`);
  }

  int(o: Raw, k: string, path: Path, def: number, opts: { hex?: boolean; max?: number } = {}): number {
    const v = o[k];
    if (v === undefined || v === null || v === '') return def;
    let n: number = Number.NaN;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) n = Number.parseInt(v.slice(2), 16);
    else if (typeof v === 'string' && opts.hex && /^[0-9a-f]+$/i.test(v)) n = Number.parseInt(v, 16);
    else if (typeof v === 'string' && /^\d+$/.test(v)) n = Number(v);
    const max = opts.max ?? 1_000_000;
    if (!Number.isInteger(n) || n < 0 || n > max)
      this.fail([...path, k], `'${String(v)}' is not valid: expected an integer between 0 and ${max}`);
    return n;
  }

  archive(v: unknown, path: Path): ArchiveSpec {
    const o = this.map(v, path);
    this.unknownKeys(o, ['archive', 'compression', 'script', 'file'], path);
    return {
      archive: this.fileRef(o, 'archive', path),
      compression: this.oneOf<Compression>(o, 'compression', path, COMPRESSIONS),
      script: this.text(o, 'script', path, { def: 'none' }) as string,
      md5: '',
    };
  }

  fileRef(o: Raw, k: string, path: Path): string {
    const s = this.text(o, k, path, {
      required: true,
      what: 'a file: an http(s) URL, server://PATH or a path',
    }) as string;
    if (s.startsWith('server://') && !s.slice('server://'.length).startsWith('/')) {
      this.fail(
        [...path, k],
        `'${s}' is not valid: expected server:///ABSOLUTE/PATH or server:///... ; got a relative server path`,
      );
    }
    return s;
  }
}

export function normaliseDescription(
  raw: unknown,
  file: string,
  locate: Locator,
  format: DescriptionFormat,
): ParsedDescription {
  const c = new Checker(file, locate);
  const o = c.map(raw ?? null, []);
  c.unknownKeys(o, KNOWN_TOP, []);
  const name = c.text(o, 'name', [], { required: true, what: 'the environment name' }) as string;
  if (!NAME_RE.test(name))
    c.fail(['name'], `'${name}' is not valid: expected letters, digits, '.', '_', '+' and '-' (at most 128)`);
  const os = c.oneOf<OsKind>(o, 'os', [], OS_KINDS, format === 'keyvalue' ? 'linux' : undefined);

  if (o.image === undefined || o.image === null)
    c.fail(['image'], 'is mandatory (expected a mapping with file, kind and compression)');
  const img = c.map(o.image, ['image']);
  c.unknownKeys(img, ['file', 'kind', 'compression'], ['image']);
  const kindText = c.text(img, 'kind', ['image'], { required: true, what: 'tar or dd' });
  if (kindText === 'fsa') c.fail(['image', 'kind'], 'fsa images are not supported: expected tar or dd');
  const kind = c.oneOf(img, 'kind', ['image'], ['tar', 'dd'] as const);
  const image = {
    file: c.fileRef(img, 'file', ['image']),
    kind,
    compression: c.oneOf<Compression>(img, 'compression', ['image'], COMPRESSIONS),
    md5: '',
  };

  const bootRaw = o.boot === undefined || o.boot === null ? {} : c.map(o.boot, ['boot']);
  c.unknownKeys(
    bootRaw,
    ['kernel', 'initrd', 'kernel_params', 'hypervisor', 'hypervisor_params', 'block_device', 'partition'],
    ['boot'],
  );
  const boot: Environment['boot'] = {};
  for (const k of ['kernel', 'initrd', 'kernel_params', 'hypervisor', 'hypervisor_params'] as const) {
    const v = c.text(bootRaw, k, ['boot']);
    if (v !== undefined) boot[k] = v;
  }
  const filesystem = c.text(o, 'filesystem', []);
  if (kind === 'tar' && os !== 'other') {
    if (boot.kernel === undefined)
      c.fail(['boot', 'kernel'], 'is mandatory for a tar image (expected the kernel path inside the image)');
    if (filesystem === undefined) c.fail(['filesystem'], 'is mandatory for a tar image (expected e.g. ext4)');
  }
  if (filesystem !== undefined && !/^[a-z0-9]{2,16}$/.test(filesystem))
    c.fail(['filesystem'], `'${filesystem}' is not valid: expected a filesystem type such as ext4`);
  if (os === 'xen' && boot.hypervisor === undefined)
    c.fail(['boot', 'hypervisor'], 'is mandatory for a xen environment');

  if (c.bool(o, 'multipart', []))
    c.fail(['multipart'], 'multi-partition environments are not supported: expected false');
  if (o.postinstalls !== undefined && o.postinstalls !== null && !Array.isArray(o.postinstalls)) {
    c.fail(['postinstalls'], 'expected a list of {archive, compression, script}');
  }
  const postinstalls = ((o.postinstalls as unknown[] | undefined) ?? []).map((p, i) =>
    c.archive(p, ['postinstalls', i]),
  );
  const env: Environment = {
    name,
    version: c.int(o, 'version', [], 1),
    description: c.text(o, 'description', [], { def: '' }) as string,
    author: c.text(o, 'author', [], { def: '' }) as string,
    visibility: c.oneOf<Visibility>(o, 'visibility', [], VISIBILITIES, 'private'),
    destructive: c.bool(o, 'destructive', []),
    os,
    image,
    postinstalls,
    boot,
    partition_type: c.int(o, 'partition_type', [], 0, { hex: format === 'keyvalue', max: 255 }),
    format,
  };
  if (o.preinstall !== undefined && o.preinstall !== null)
    env.preinstall = c.archive(o.preinstall, ['preinstall']);
  if (filesystem !== undefined) env.filesystem = filesystem;
  return { env, warnings: c.warnings };
}
