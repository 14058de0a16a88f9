import type { UploadedFile } from '../../api/uploaded-file.js';
import { KaployError } from '../../common/errors.js';
import { parseDescription } from '../../formats/environment/parse.js';
import type { Environment, Visibility } from '../../formats/environment/types.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { EngineContext } from '../server/context.js';
import { notFound, withStatus } from '../server/http-errors.js';
import type { StoredEnvironment } from '../store/environments-repo.js';
import type { OnDownloadProgress } from './download-progress.js';
import { recordEnvironmentFiles } from './record-files.js';
import { canSee, latestVersions } from './visibility.js';

/**
 * Engine-side environment operations, each checking who asks. Library functions: the HTTP routes
 * only validate and call these.
 */
export interface EnvironmentQuery {
  name: string;
  user?: string;
  version?: number;
}

function describe(q: EnvironmentQuery): string {
  return `'${q.name}'${q.version !== undefined ? ` version ${q.version}` : ''}${q.user !== undefined ? ` of user ${q.user}` : ''}`;
}

function unknownEnv(q: EnvironmentQuery): KaployError {
  return notFound(
    'KAPLOY_ENVIRONMENT',
    `The environment ${describe(q)} does not exist (or is not visible to you); see kaenv3 -l`,
    {
      environment: q.name,
    },
  );
}

/** kaenv3 -l: visible environments, latest versions unless allVersions. */
export function listEnvironments(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  opts: { user?: string; pattern?: string; allVersions?: boolean },
): StoredEnvironment[] {
  const rows = ctx.store.environments
    .find({
      ...(opts.user !== undefined ? { user: opts.user } : {}),
      ...(opts.pattern !== undefined ? { namePattern: opts.pattern } : {}),
    })
    .filter((e) => canSee(caller, e, opts.user !== undefined));
  return opts.allVersions ? rows : latestVersions(rows);
}

/**
 * Finds one environment the caller may use: with a user, that user's; without, the caller's own
 * first, then a public one (the site's production user first). Latest version unless given.
 */
export function findEnvironment(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  q: EnvironmentQuery,
): StoredEnvironment {
  const pick = (user: string) => {
    const rows = ctx.store.environments
      .find({ user, name: q.name, ...(q.version !== undefined ? { version: q.version } : {}) })
      .filter((e) => canSee(caller, e, q.user !== undefined));
    return rows.at(-1);
  };
  if (q.user !== undefined) {
    const e = pick(q.user);
    if (!e) throw unknownEnv(q);
    return e;
  }
  const own = pick(caller.name);
  if (own) return own;
  const pub = ctx.store.environments
    .find({ name: q.name, ...(q.version !== undefined ? { version: q.version } : {}) })
    .filter((e) => e.visibility === 'public');
  const owners = [...new Set(pub.map((e) => e.user))].sort((a, b) =>
    a === ctx.config.production.user ? -1 : b === ctx.config.production.user ? 1 : a.localeCompare(b),
  );
  const owner = owners[0];
  const e = owner === undefined ? undefined : pub.filter((x) => x.user === owner).at(-1);
  if (!e) throw unknownEnv(q);
  return e;
}

export interface DescriptionInput {
  description: string;
  file: string;
  uploads: UploadedFile[];
}

function assertVisibilityAllowed(caller: AuthenticatedUser, v: Visibility): void {
  if (v === 'public' && !caller.admin) {
    throw new KaployError(
      'KAPLOY_RIGHTS',
      "only administrators can make an environment public: remove the visibility line or set it to 'shared' or 'private'",
    );
  }
}

/** Parses and records the files of a description, without storing it (anonymous deployments). */
export async function prepareEnvironment(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  input: DescriptionInput,
  signal?: AbortSignal,
  onProgress?: OnDownloadProgress,
): Promise<{ env: Environment; warnings: string[] }> {
  const { env, warnings } = parseDescription(input.description, input.file);
  const recorded = await recordEnvironmentFiles(ctx, caller.name, env, input.uploads, {
    ...(signal ? { signal } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
  return { env: { ...recorded, user: caller.name }, warnings };
}

/** kaenv3 -a: adds a description for the caller. */
export async function addEnvironment(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  input: DescriptionInput,
  signal?: AbortSignal,
): Promise<{ env: StoredEnvironment; warnings: string[] }> {
  const { env: parsed } = parseDescription(input.description, input.file);
  assertVisibilityAllowed(caller, parsed.visibility);
  const exists = () =>
    withStatus(
      new KaployError(
        'KAPLOY_EXISTS',
        `the environment '${parsed.name}' version ${parsed.version} of user ${caller.name} already exists: change the version or delete it first (kaenv3 -d)`,
        { environment: parsed.name },
      ),
      409,
    );
  if (ctx.store.environments.exists(caller.name, parsed.name, parsed.version)) throw exists();
  const { env, warnings } = await prepareEnvironment(ctx, caller, input, signal);
  try {
    return { env: ctx.store.environments.insert(caller.name, env), warnings };
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw exists();
    throw e;
  }
}

function assertOwnerOrAdmin(caller: AuthenticatedUser, user: string, what: string): void {
  if (caller.name !== user && !caller.admin) {
    throw new KaployError('KAPLOY_RIGHTS', `you cannot ${what} the environments of user ${user}`);
  }
}

/** kaenv3 -d: deletes one version, or every version when none is given. */
export function deleteEnvironment(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  q: EnvironmentQuery,
): StoredEnvironment[] {
  const user = q.user ?? caller.name;
  assertOwnerOrAdmin(caller, user, 'delete');
  const rows = ctx.store.environments.find({
    user,
    name: q.name,
    ...(q.version !== undefined ? { version: q.version } : {}),
  });
  if (rows.length === 0 || !rows.every((e) => canSee(caller, e, true))) throw unknownEnv({ ...q, user });
  ctx.store.transaction(() => {
    for (const e of rows) ctx.store.environments.delete(e.id);
  });
  return rows;
}

export interface EnvironmentUpdate {
  visibility?: Visibility;
  toggleDestructive?: boolean;
  updateImageChecksum?: boolean;
  updatePostinstallsChecksum?: boolean;
  uploads?: UploadedFile[];
}

/** kaenv3 --set-visibility-tag / --toggle-destructive-tag / --update-*-checksum. */
export async function updateEnvironment(
  ctx: EngineContext,
  caller: AuthenticatedUser,
  q: EnvironmentQuery,
  u: EnvironmentUpdate,
  signal?: AbortSignal,
): Promise<StoredEnvironment> {
  const user = q.user ?? caller.name;
  const current = findEnvironment(ctx, caller, { ...q, user });
  assertOwnerOrAdmin(caller, user, 'modify');
  let next: Environment = structuredClone(current);
  let changed = false;
  if (u.visibility !== undefined && u.visibility !== current.visibility) {
    assertVisibilityAllowed(caller, u.visibility);
    next.visibility = u.visibility;
    changed = true;
  }
  if (u.toggleDestructive) {
    next.destructive = !next.destructive;
    changed = true;
  }
  if (u.updateImageChecksum || u.updatePostinstallsChecksum) {
    // Files are re-read as the owner would have them: for an upload, the owner's client sends them.
    next = await recordEnvironmentFiles(ctx, user, next, u.uploads ?? [], {
      image: u.updateImageChecksum === true,
      archives: u.updatePostinstallsChecksum === true,
      ...(signal ? { signal } : {}),
    });
    changed = true;
  }
  if (!changed)
    throw new KaployError(
      'KAPLOY_NOTHING_MODIFIED',
      `nothing to modify in the environment ${describe({ ...q, user })}`,
    );
  const { id: _id, created: _c, ...plain } = next as StoredEnvironment;
  return ctx.store.environments.update(current.id, plain);
}
