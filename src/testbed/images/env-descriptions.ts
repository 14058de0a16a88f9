import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { POSTINSTALL_SCRIPT, type TestImages } from './build-images.js';

/**
 * Environment descriptions of the test images, in Kadeploy's two formats (reference §2): YAML
 * (3.1.7+) and the older key/value lines of the tutorial (`tarball : FILE|tgz`). They are meant
 * to be added as public environments of user `deploy`. YAML names images as `server://PATH` (a
 * file in the engine's image_dirs); the key/value format, which predates that, uses the plain path.
 */
type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd';
export interface TestEnvironment {
  name: string;
  description: string;
  file: string;
  kind: 'tar' | 'dd';
  compression: Compression;
  postinstall?: string;
}

function testEnvironments(imgs: TestImages): TestEnvironment[] {
  const tiny = 'kaploy tiny test environment';
  return [
    {
      name: 'tiny-x64-base',
      description: `${tiny} (tgz)`,
      file: imgs.tinyTgz,
      kind: 'tar',
      compression: 'gzip',
    },
    {
      name: 'tiny-x64-base-bz2',
      description: `${tiny} (tbz2)`,
      file: imgs.tinyTbz2,
      kind: 'tar',
      compression: 'bzip2',
    },
    {
      name: 'tiny-x64-base-xz',
      description: `${tiny} (txz)`,
      file: imgs.tinyTxz,
      kind: 'tar',
      compression: 'xz',
    },
    {
      name: 'tiny-x64-base-zstd',
      description: `${tiny} (tzst)`,
      file: imgs.tinyTzst,
      kind: 'tar',
      compression: 'zstd',
    },
    {
      name: 'tiny-x64-base-dd',
      description: `${tiny} (dd.gz, ext2)`,
      file: imgs.tinyDdGz,
      kind: 'dd',
      compression: 'gzip',
    },
    {
      name: 'tiny-x64-base-post',
      description: `${tiny} with a postinstall`,
      file: imgs.tinyTgz,
      kind: 'tar',
      compression: 'gzip',
      postinstall: imgs.postinstallTgz,
    },
    {
      name: 'prod-env',
      description: 'kaploy production environment',
      file: imgs.prodTgz,
      kind: 'tar',
      compression: 'gzip',
    },
  ];
}

const FILESYSTEM = 'ext4';

function yamlDescription(e: TestEnvironment): string {
  const doc: Record<string, unknown> = {
    name: e.name,
    version: 1,
    description: e.description,
    author: 'kaploy',
    visibility: 'public',
    destructive: false,
    os: 'linux',
    image: { file: `server://${e.file}`, kind: e.kind, compression: e.compression },
    ...(e.postinstall
      ? {
          postinstalls: [
            { archive: `server://${e.postinstall}`, compression: 'gzip', script: `./${POSTINSTALL_SCRIPT}` },
          ],
        }
      : {}),
    boot: { kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img', kernel_params: '' },
    filesystem: FILESYSTEM,
    partition_type: 131, // 0x83, Linux
    multipart: false,
  };
  return `---\n${stringify(doc)}`;
}

const KV_KIND: Record<string, string> = {
  'tar/gzip': 'tgz',
  'tar/bzip2': 'tbz2',
  'dd/gzip': 'ddgz',
  'dd/bzip2': 'ddbz2',
};

/** Key/value description, or undefined when the format cannot express the image (xz, zstd). */
function keyValueDescription(e: TestEnvironment): string | undefined {
  const kind = KV_KIND[`${e.kind}/${e.compression}`];
  if (!kind) return undefined;
  const lines = [
    `name : ${e.name}`,
    'version : 1',
    `description : ${e.description}`,
    'author : kaploy',
    `tarball : ${e.file}|${kind}`,
    ...(e.postinstall ? [`postinstall : ${e.postinstall}|tgz|./${POSTINSTALL_SCRIPT}`] : []),
    'kernel : /boot/vmlinuz',
    'initrd : /boot/initrd.img',
    'fdisktype : 83',
    `filesystem : ${FILESYSTEM}`,
    'environment_kind : linux',
    'visibility : public',
    'demolishing_env : false',
  ];
  return `${lines.join('\n')}\n`;
}

/** Writes NAME.yaml (and NAME.env where expressible) per environment; returns the files written. */
export async function writeEnvDescriptions(envDir: string, imgs: TestImages): Promise<string[]> {
  await mkdir(envDir, { recursive: true });
  const written: string[] = [];
  for (const e of testEnvironments(imgs)) {
    const y = path.join(envDir, `${e.name}.yaml`);
    await writeFile(y, yamlDescription(e));
    written.push(y);
    const kv = keyValueDescription(e);
    if (kv) {
      const f = path.join(envDir, `${e.name}.env`);
      await writeFile(f, kv);
      written.push(f);
    }
  }
  return written;
}
