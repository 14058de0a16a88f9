import path from 'node:path';
import type { UploadedFile } from '../../api/uploaded-file.js';
import { KaployError } from '../../common/errors.js';
import { MAX_DESCRIPTION_BYTES, parseDescription } from '../../formats/environment/parse.js';
import type { Environment, Visibility } from '../../formats/environment/types.js';
import { fetchText } from '../deploy/fetch-text.js';
import type { ApiClient } from '../http-client.js';
import { readBoundedFile } from '../read-bounded-file.js';
import { fileRefs, uploadLocalFiles } from './uploads.js';

/** Client-side environment calls, shared by kaenv3 and kadeploy3. */
export interface ApiEnvironment extends Environment {
  user: string;
  created?: number;
}

export interface DescriptionSource {
  description: string;
  file: string;
  uploads: UploadedFile[];
}

interface Info {
  image_dirs: string[];
}

const sig = (signal?: AbortSignal) => (signal ? { signal } : {});
const neverAborted = new AbortController().signal;

/** Reads a description file (`-` = standard input), bounded as the parser bounds it. */
export function readDescriptionFile(file: string, cwd: string, signal?: AbortSignal): Promise<string> {
  return readBoundedFile(file === '-' ? file : path.resolve(cwd, file), {
    limit: MAX_DESCRIPTION_BYTES,
    what: 'description file',
    signal,
  });
}

/**
 * Parses a description locally (errors with file/line/key before anything is sent) and uploads the
 * local files it names. Returns what the engine's add/anonymous routes take, and local warnings.
 */
export async function prepareDescription(
  client: ApiClient,
  opts: { file: string; text?: string; cwd: string; signal?: AbortSignal },
): Promise<DescriptionSource> {
  const text = opts.text ?? (await readDescriptionFile(opts.file, opts.cwd, opts.signal));
  const { env } = parseDescription(text, opts.file);
  const info = await client.request<Info>('GET', '/info', sig(opts.signal));
  const uploads = await uploadLocalFiles(client, fileRefs(env), {
    cwd: opts.cwd,
    imageDirs: info.image_dirs,
    ...sig(opts.signal),
  });
  return { description: text, file: opts.file, uploads };
}

export async function addEnvironmentFile(
  client: ApiClient,
  opts: { file: string; text?: string; cwd: string; signal?: AbortSignal },
): Promise<{ environment: ApiEnvironment; warnings: string[] }> {
  const body = await prepareDescription(client, opts);
  return client.request('POST', '/environments', { body, ...sig(opts.signal) });
}

export interface EnvironmentRef {
  name: string;
  user?: string;
  version?: number;
}

export function getEnvironment(
  client: ApiClient,
  ref: EnvironmentRef,
  signal?: AbortSignal,
): Promise<ApiEnvironment> {
  return client.request('GET', '/environments/resolve', {
    query: { name: ref.name, user: ref.user, version: ref.version },
    ...sig(signal),
  });
}

export function listEnvironments(
  client: ApiClient,
  opts: { user?: string; pattern?: string; allVersions?: boolean; signal?: AbortSignal },
): Promise<ApiEnvironment[]> {
  return client.request('GET', '/environments', {
    query: { user: opts.user, name: opts.pattern, all_versions: opts.allVersions ? true : undefined },
    ...sig(opts.signal),
  });
}

export async function deleteEnvironment(
  client: ApiClient,
  ref: EnvironmentRef & { user: string },
  signal?: AbortSignal,
): Promise<ApiEnvironment[]> {
  return client.request(
    'DELETE',
    `/environments/${encodeURIComponent(ref.user)}/${encodeURIComponent(ref.name)}`,
    {
      query: { version: ref.version },
      ...sig(signal),
    },
  );
}

export interface UpdateRequest {
  visibility?: Visibility;
  toggleDestructive?: boolean;
  updateImageChecksum?: boolean;
  updatePostinstallsChecksum?: boolean;
}

/** Tags and checksums; for checksum updates the local files are read and sent again first. */
export async function updateEnvironment(
  client: ApiClient,
  ref: EnvironmentRef & { user: string },
  u: UpdateRequest,
  opts: { cwd: string; signal?: AbortSignal },
): Promise<ApiEnvironment> {
  let uploads: UploadedFile[] = [];
  if (u.updateImageChecksum || u.updatePostinstallsChecksum) {
    const current = await getEnvironment(client, ref, opts.signal);
    const info = await client.request<Info>('GET', '/info', sig(opts.signal));
    const refs = fileRefs(current, {
      image: u.updateImageChecksum === true,
      archives: u.updatePostinstallsChecksum === true,
    });
    uploads = await uploadLocalFiles(client, refs, {
      cwd: opts.cwd,
      imageDirs: info.image_dirs,
      ...sig(opts.signal),
    });
  }
  return client.request(
    'PUT',
    `/environments/${encodeURIComponent(ref.user)}/${encodeURIComponent(ref.name)}`,
    {
      query: { version: ref.version },
      body: {
        ...(u.visibility !== undefined ? { visibility: u.visibility } : {}),
        ...(u.toggleDestructive ? { toggle_destructive: true } : {}),
        ...(u.updateImageChecksum ? { update_image_checksum: true } : {}),
        ...(u.updatePostinstallsChecksum ? { update_postinstalls_checksum: true } : {}),
        uploads,
      },
      ...sig(opts.signal),
    },
  );
}

export type ResolvedForDeploy =
  | { anonymous: false; environment: ApiEnvironment; warnings: string[] }
  | { anonymous: true; environment: ApiEnvironment; warnings: string[]; source: DescriptionSource };

/**
 * What kadeploy3 deploys: a recorded environment (`-e NAME [-u USER] [--env-version N]`) or an
 * anonymous one (`-a FILE|URL`: parsed, files uploaded and checked by the engine, not recorded).
 * For anonymous ones `source` is what to send with the deployment request.
 */
export async function resolveEnvironmentForDeploy(
  client: ApiClient,
  opts: { name?: string; user?: string; version?: number; file?: string; cwd?: string; signal?: AbortSignal },
): Promise<ResolvedForDeploy> {
  if ((opts.name === undefined) === (opts.file === undefined)) {
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      'give exactly one of an environment name (-e) or a description file (-a)',
    );
  }
  if (opts.name !== undefined) {
    const environment = await getEnvironment(
      client,
      {
        name: opts.name,
        ...(opts.user !== undefined ? { user: opts.user } : {}),
        ...(opts.version !== undefined ? { version: opts.version } : {}),
      },
      opts.signal,
    );
    return { anonymous: false, environment, warnings: [] };
  }
  const file = opts.file as string;
  const cwd = opts.cwd ?? process.cwd();
  let text: string | undefined;
  if (/^https?:\/\//i.test(file)) text = await fetchText(file, 'description', opts.signal ?? neverAborted);
  const source = await prepareDescription(client, {
    file,
    cwd,
    ...(text !== undefined ? { text } : {}),
    ...sig(opts.signal),
  });
  const res = await client.request<{ environment: ApiEnvironment; warnings: string[] }>(
    'POST',
    '/environments/anonymous',
    {
      body: source,
      ...sig(opts.signal),
    },
  );
  return { anonymous: true, environment: res.environment, warnings: res.warnings, source };
}
