import { stringify } from 'yaml';
import { TARBALL_KINDS } from './parse-keyvalue.js';
import type { ArchiveSpec, Environment } from './types.js';

/**
 * Prints an environment in the format it was added in (kaenv3 -p), so that the output can be
 * edited and re-added (the tutorial's round trip). The recorded MD5s are shown as comments: they
 * are what `md5sum` should print, and the engine recomputes them when the description is added.
 */
export function printDescription(env: Environment, format = env.format): string {
  return format === 'keyvalue' ? printKeyValue(env) : printYaml(env);
}

const ARCHIVE_SUFFIX: Record<string, string> = { gzip: 'tgz', bzip2: 'tbz2', xz: 'txz', zstd: 'tzst' };

function checksumComments(env: Environment): string {
  const lines = [];
  if (env.image.md5) lines.push(`# md5 ${env.image.md5} ${env.image.file}`);
  if (env.preinstall?.md5) lines.push(`# md5 ${env.preinstall.md5} ${env.preinstall.archive}`);
  for (const p of env.postinstalls) if (p.md5) lines.push(`# md5 ${p.md5} ${p.archive}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function printKeyValue(env: Environment): string {
  const kind = Object.entries(TARBALL_KINDS).find(
    ([, v]) => v.kind === env.image.kind && v.compression === env.image.compression,
  )?.[0];
  const archive = (a: ArchiveSpec) => `${a.archive}|${ARCHIVE_SUFFIX[a.compression]}|${a.script}`;
  const out: [string, string | undefined][] = [
    ['name', env.name],
    ['version', String(env.version)],
    ['description', env.description],
    ['author', env.author],
    ['tarball', `${env.image.file}|${kind}`],
    ['preinstall', env.preinstall && archive(env.preinstall)],
    ['postinstall', env.postinstalls.length ? env.postinstalls.map(archive).join(',') : undefined],
    ['kernel', env.boot.kernel],
    ['initrd', env.boot.initrd],
    ['kernel_params', env.boot.kernel_params],
    ['hypervisor', env.boot.hypervisor],
    ['hypervisor_params', env.boot.hypervisor_params],
    ['fdisktype', env.partition_type.toString(16)],
    ['filesystem', env.filesystem],
    ['environment_kind', env.os],
    ['visibility', env.visibility],
    ['demolishing_env', env.destructive ? 'true' : 'false'],
  ];
  const body = out
    .filter(([k, v]) => v !== undefined && (v !== '' || k === 'description' || k === 'author'))
    .map(([k, v]) => `${k} : ${v}`)
    .join('\n');
  return `${checksumComments(env)}${body}\n`;
}

function printYaml(env: Environment): string {
  const strip = (a: ArchiveSpec) => ({ archive: a.archive, compression: a.compression, script: a.script });
  const doc: Record<string, unknown> = {
    name: env.name,
    version: env.version,
    description: env.description,
    author: env.author,
    visibility: env.visibility,
    destructive: env.destructive,
    os: env.os,
    image: { file: env.image.file, kind: env.image.kind, compression: env.image.compression },
  };
  if (env.preinstall) doc.preinstall = strip(env.preinstall);
  if (env.postinstalls.length) doc.postinstalls = env.postinstalls.map(strip);
  if (Object.keys(env.boot).length) doc.boot = { ...env.boot };
  if (env.filesystem !== undefined) doc.filesystem = env.filesystem;
  doc.partition_type = env.partition_type;
  return `${checksumComments(env)}---\n${stringify(doc)}`;
}
