import type { FileMove } from '../../api/file-moves.js';
import { KaployError } from '../../common/errors.js';
import { printDescription } from '../../formats/environment/print.js';
import { VISIBILITIES, type Visibility } from '../../formats/environment/types.js';
import type { Io } from '../deploy/follow.js';
import { fanOut, type SiteRun } from '../grid/fan-out.js';
import { gridPlan } from '../grid/grid-plan.js';
import { requireSomeSite } from '../grid/grid-result.js';
import type { GridServer } from '../grid/grid-servers.js';
import type { ApiClient } from '../http-client.js';
import {
  addEnvironmentFile,
  deleteEnvironment,
  getEnvironment,
  listEnvironments,
  updateEnvironment,
} from './environments.js';
import { formatEnvironmentList } from './list-format.js';

/** kaenv3 as a library: one action per call, output on the given streams. */
export type KaenvAction =
  | { kind: 'list'; pattern?: string }
  | { kind: 'print'; name: string }
  | { kind: 'add'; file: string; text?: string }
  | { kind: 'delete'; name: string }
  | { kind: 'set-visibility'; name: string; visibility: Visibility }
  | { kind: 'toggle-destructive'; name: string }
  | { kind: 'update-image-checksum'; name: string }
  | { kind: 'update-postinstalls-checksum'; name: string }
  | { kind: 'move-files'; moves: FileMove[] };

export interface KaenvOptions {
  action: KaenvAction;
  user?: string;
  version?: number;
  allVersions?: boolean;
}

export interface KaenvIo {
  client: ApiClient;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  cwd: string;
  signal?: AbortSignal;
}

export function assertVisibility(tag: string): Visibility {
  if (!(VISIBILITIES as readonly string[]).includes(tag)) {
    throw new KaployError(
      'KAPLOY_OPTION',
      `invalid visibility tag '${tag}': expected public, shared or private`,
    );
  }
  return tag as Visibility;
}

export async function runKaenv(opts: KaenvOptions, io: KaenvIo): Promise<number> {
  const { client, stdout, stderr, signal } = io;
  const a = opts.action;
  const who = async () =>
    opts.user ?? (await client.request<{ user: string }>('GET', '/info', signal ? { signal } : {})).user;
  const ref = (name: string) => ({
    name,
    ...(opts.user !== undefined ? { user: opts.user } : {}),
    ...(opts.version !== undefined ? { version: opts.version } : {}),
  });
  switch (a.kind) {
    case 'list': {
      const envs = await listEnvironments(client, {
        ...(opts.user !== undefined ? { user: opts.user } : {}),
        ...(a.pattern !== undefined ? { pattern: a.pattern } : {}),
        allVersions: opts.allVersions === true,
        ...(signal ? { signal } : {}),
      });
      if (envs.length === 0) stderr.write('No environment has been found\n');
      else stdout.write(formatEnvironmentList(envs));
      return 0;
    }
    case 'print': {
      const env = await getEnvironment(client, ref(a.name), signal);
      stdout.write(printDescription(env));
      return 0;
    }
    case 'add': {
      const res = await addEnvironmentFile(client, {
        file: a.file,
        cwd: io.cwd,
        ...(a.text !== undefined ? { text: a.text } : {}),
        ...(signal ? { signal } : {}),
      });
      for (const w of res.warnings) stderr.write(`Warning: ${w}\n`);
      stdout.write(
        `Environment ${res.environment.name} version ${res.environment.version} added for user ${res.environment.user}\n`,
      );
      return 0;
    }
    case 'delete': {
      const gone = await deleteEnvironment(client, { ...ref(a.name), user: await who() }, signal);
      for (const e of gone)
        stdout.write(`Environment ${e.name} version ${e.version} of user ${e.user} deleted\n`);
      return 0;
    }
    case 'move-files': {
      const res = await client.request<{ updated: number }>('POST', '/environments/move-files', {
        body: { moves: a.moves },
        ...(signal ? { signal } : {}),
      });
      stdout.write(`${res.updated} environment(s) updated\n`);
      return 0;
    }
    default: {
      const user = await who();
      const u =
        a.kind === 'set-visibility'
          ? { visibility: a.visibility }
          : a.kind === 'toggle-destructive'
            ? { toggleDestructive: true }
            : a.kind === 'update-image-checksum'
              ? { updateImageChecksum: true }
              : { updatePostinstallsChecksum: true };
      const env = await updateEnvironment(client, { ...ref(a.name), user }, u, {
        cwd: io.cwd,
        ...(signal ? { signal } : {}),
      });
      const what =
        a.kind === 'set-visibility'
          ? `visibility set to ${env.visibility}`
          : a.kind === 'toggle-destructive'
            ? `destructive tag set to ${env.destructive}`
            : a.kind === 'update-image-checksum'
              ? `image checksum updated (${env.image.md5})`
              : 'postinstall checksums updated';
      stdout.write(`Environment ${env.name} version ${env.version} of user ${env.user}: ${what}\n`);
      return 0;
    }
  }
}

/**
 * kaenv3 -l -M: the list of every configured server through the grid fan-out, each site's lines
 * prefixed with its name (its own header, Kadeploy's columns). A site that fails prints its error
 * line and the others still list; throws only when no site answered.
 */
export async function runKaenvListGrid(
  servers: readonly GridServer[],
  opts: Omit<KaenvOptions, 'action'> & { action: Extract<KaenvAction, { kind: 'list' }> },
  io: Io & { cwd: string },
  signal: AbortSignal,
): Promise<SiteRun<number>[]> {
  const plan = await gridPlan(servers, signal);
  try {
    const runs = await fanOut(plan, { io, signal }, (site) =>
      runKaenv(opts, {
        client: site.client,
        stdout: site.io.out,
        stderr: site.io.err,
        cwd: io.cwd,
        signal: site.signal,
      }),
    );
    requireSomeSite(runs, 'answered');
    return runs;
  } finally {
    await plan.close();
  }
}
