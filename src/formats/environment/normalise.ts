import { type ConfigReporter, checkAgainstSchema } from '../../common/config/pipeline.js';
import { compileSchema } from '../../common/config/schema.js';
import { descriptionError, type Locator, warningAt } from './description-error.js';
import { DESCRIPTION_SCHEMA, DESCRIPTION_VALIDATOR } from './description-schema.js';
import type {
  ArchiveSpec,
  Compression,
  DescriptionFormat,
  Environment,
  ImageKind,
  OsKind,
  ParsedDescription,
  Visibility,
} from './types.js';

/**
 * The description pipeline after its format's parser: schema (description-schema.ts: unknown keys
 * warned about, "Unused field" as in Kadeploy; types and values) -> normalise (text, integers and
 * booleans as Kadeploy reads them) -> cross-field rules. Each problem names its key, its line and
 * what is expected.
 */
type Raw = Record<string, unknown>;
type Scalar = string | number | boolean;
type Path = (string | number)[];

const schema = compileSchema(DESCRIPTION_SCHEMA, { ...DESCRIPTION_VALIDATOR, missing: 'is mandatory' });

export function normaliseDescription(
  raw: unknown,
  file: string,
  locate: Locator,
  format: DescriptionFormat,
): ParsedDescription {
  const warnings: string[] = [];
  const r: ConfigReporter = {
    fail(path, msg) {
      throw descriptionError(file, locate(path), msg);
    },
    warn(path, msg) {
      warnings.push(warningAt(file, locate(path), msg));
    },
  };
  const doc = withoutAbsent(raw ?? null);
  checkAgainstSchema(schema, doc, 'warn', r);
  const env = normalise(doc as Raw, format, r);
  crossFieldRules(doc as Raw, env, r);
  return { env, warnings };
}

/** A key written without a value (`kernel:`, `author: ''`) is a key not written, as in Kadeploy. */
function withoutAbsent(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutAbsent);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v as Raw)
      .filter(([, x]) => x !== null && x !== '')
      .map(([k, x]) => [k, withoutAbsent(x)]),
  );
}

const text = (v: unknown, def?: string) => (v === undefined ? def : String(v as Scalar));
const bool = (v: unknown) => v === true || v === 'true' || v === '1' || v === 1;

function int(v: unknown, path: Path, def: number, r: ConfigReporter, max: number, hex = false): number {
  if (v === undefined) return def;
  let n = Number.NaN;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)) n = Number.parseInt(v.slice(2), 16);
  else if (typeof v === 'string' && hex && /^[0-9a-f]+$/i.test(v)) n = Number.parseInt(v, 16);
  else if (typeof v === 'string' && /^\d+$/.test(v)) n = Number(v);
  // The schema checks the shape; hexadecimal text can still be out of range, decimal-only keys not hex.
  if (!Number.isInteger(n) || n < 0 || n > max)
    r.fail(path, `'${String(v)}' is not valid: expected an integer between 0 and ${max}`);
  return n;
}

function archive(v: unknown, path: Path, r: ConfigReporter): ArchiveSpec {
  const o = v as Raw;
  return {
    archive: fileRef(o.archive, [...path, 'archive'], r),
    compression: o.compression as Compression,
    script: text(o.script, 'none') as string,
    md5: '',
  };
}

function fileRef(v: unknown, path: Path, r: ConfigReporter): string {
  const s = String(v as Scalar);
  if (s.startsWith('server://') && !s.slice('server://'.length).startsWith('/')) {
    r.fail(
      path,
      `'${s}' is not valid: expected server:///ABSOLUTE/PATH or server:///... ; got a relative server path`,
    );
  }
  return s;
}

function normalise(o: Raw, format: DescriptionFormat, r: ConfigReporter): Environment {
  const name = String(o.name as Scalar);
  if (o.os === undefined && format === 'yaml')
    r.fail(['os'], 'is mandatory (expected one of linux, xen, other)');
  const img = o.image as Raw;
  const bootRaw = (o.boot ?? {}) as Raw;
  const boot: Environment['boot'] = {};
  for (const k of ['kernel', 'initrd', 'kernel_params', 'hypervisor', 'hypervisor_params'] as const) {
    const v = text(bootRaw[k]);
    if (v !== undefined) boot[k] = v;
  }
  const env: Environment = {
    name,
    version: int(o.version, ['version'], 1, r, 1_000_000),
    description: text(o.description, '') as string,
    author: text(o.author, '') as string,
    visibility: (o.visibility ?? 'private') as Visibility,
    destructive: bool(o.destructive),
    os: (o.os ?? 'linux') as OsKind,
    image: {
      file: fileRef(img.file, ['image', 'file'], r),
      kind: img.kind as ImageKind,
      compression: img.compression as Compression,
      md5: '',
    },
    postinstalls: ((o.postinstalls as unknown[] | undefined) ?? []).map((p, i) =>
      archive(p, ['postinstalls', i], r),
    ),
    boot,
    partition_type: int(o.partition_type, ['partition_type'], 0, r, 255, format === 'keyvalue'),
    format,
  };
  if (o.preinstall !== undefined) env.preinstall = archive(o.preinstall, ['preinstall'], r);
  const filesystem = text(o.filesystem);
  if (filesystem !== undefined) env.filesystem = filesystem;
  return env;
}

/** What a deployment needs that depends on several keys (and the values Kadeploy has but we refuse). */
function crossFieldRules(o: Raw, env: Environment, r: ConfigReporter): void {
  if (env.image.kind === 'tar' && env.os !== 'other') {
    if (env.boot.kernel === undefined)
      r.fail(['boot', 'kernel'], 'is mandatory for a tar image (expected the kernel path inside the image)');
    if (env.filesystem === undefined)
      r.fail(['filesystem'], 'is mandatory for a tar image (expected e.g. ext4)');
  }
  if (env.filesystem !== undefined && !/^[a-z0-9]{2,16}$/.test(env.filesystem))
    r.fail(['filesystem'], `'${env.filesystem}' is not valid: expected a filesystem type such as ext4`);
  if (env.os === 'xen' && env.boot.hypervisor === undefined)
    r.fail(['boot', 'hypervisor'], 'is mandatory for a xen environment');
  if (bool(o.multipart))
    r.fail(['multipart'], 'multi-partition environments are not supported: expected false');
}
