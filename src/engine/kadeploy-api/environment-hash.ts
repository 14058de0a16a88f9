import { stringify } from 'yaml';
import type { UploadedFile } from '../../api/uploaded-file.js';
import { KaployError } from '../../common/errors.js';
import type { Environment } from '../../formats/environment/types.js';
import type { StoredEnvironment } from '../store/environments-repo.js';
import { type fetchClientFile, isRemote } from './client-files.js';
import type { Params } from './params.js';

/** Kadeploy's `environment` hash: the description's keys (as in a YAML description file). */
const MAX_HASH_CHARS = 1_000_000;

/**
 * The hash as a description text kaploy's parser reads (the YAML description format is the same
 * hash), and the local files it names fetched from the client's export as uploads.
 */
export async function descriptionOf(
  hash: Params,
  opts: {
    client: string | undefined;
    fetch: (ref: string) => ReturnType<typeof fetchClientFile>;
  },
): Promise<{ description: string; uploads: UploadedFile[] }> {
  const { kind: _kind, ...desc } = hash;
  const description = stringify(desc);
  if (description.length > MAX_HASH_CHARS)
    throw new KaployError(
      'KAPLOY_ENVIRONMENT',
      `the environment description is larger than ${MAX_HASH_CHARS} characters`,
    );
  const uploads: UploadedFile[] = [];
  if (opts.client) for (const ref of localFiles(desc)) uploads.push(await opts.fetch(ref));
  return { description, uploads };
}

/** The files of a description hash that are neither URLs nor server:// paths. */
function localFiles(desc: Params): string[] {
  const refs: unknown[] = [];
  const image = desc.image as Params | undefined;
  refs.push(image?.file);
  refs.push((desc.preinstall as Params | undefined)?.archive);
  if (Array.isArray(desc.postinstalls))
    for (const p of desc.postinstalls) refs.push((p as Params | undefined)?.archive);
  return [...new Set(refs.filter((r): r is string => typeof r === 'string' && r !== '' && !isRemote(r)))];
}

/** A recorded environment as Kadeploy's GET /environments shows it. */
export function environmentHash(e: StoredEnvironment): Record<string, unknown> {
  const env: Environment = e;
  const archive = (a: { archive: string; compression: string; script: string; md5?: string }) => ({
    archive: a.archive,
    compression: a.compression,
    script: a.script,
  });
  return {
    id: e.id,
    name: env.name,
    version: env.version,
    description: env.description,
    author: env.author,
    visibility: env.visibility,
    destructive: env.destructive,
    os: env.os,
    image: { file: env.image.file, kind: env.image.kind, compression: env.image.compression },
    ...(env.preinstall ? { preinstall: archive(env.preinstall) } : {}),
    ...(env.postinstalls.length > 0 ? { postinstalls: env.postinstalls.map(archive) } : {}),
    boot: env.boot,
    ...(env.filesystem ? { filesystem: env.filesystem } : {}),
    partition_type: env.partition_type,
    // kaploy deploys one partition: never a multi-partition image.
    multipart: false,
    user: e.user,
  };
}
