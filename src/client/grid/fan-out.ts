import pMap from 'p-map';
import type { OperationStatus } from '../../api/operation-status.js';
import { errorMessage, isKaployError } from '../../common/errors.js';
import type { Io } from '../deploy/follow.js';
import { formatErrorLine } from '../deploy/format-error.js';
import type { SiteOutputs } from '../deploy/site-output.js';
import type { ApiClient } from '../http-client.js';
import { ServerSilentError } from '../http-client.js';
import { gridOutputs } from './grid-output.js';
import type { GridPlan } from './grid-plan.js';

/** Sites worked on at once; each site bounds its own nodes, so this only caps a runaway config. */
const SITE_CONCURRENCY = 16;

/** Why a whole site failed: never reached, refused, lost once started, or cancelled by the user. */
export type GridFailureStage = 'unreachable' | 'refused' | 'lost' | 'cancelled';

export interface GridFailure {
  stage: GridFailureStage;
  code: string;
  message: string;
  cause: unknown;
}

/** One site's part of a -M run, as a value: what its task returned, or how it failed. */
export interface SiteRun<R> {
  server: string;
  nodes: string[];
  /** The operation the site started (set by the task's `started`), also when it failed afterwards. */
  wid?: string;
  value?: R;
  failure?: GridFailure;
}

/** What a site's task gets: its server and nodes, its prefixed streams, and the run's signal. */
export interface SiteContext {
  name: string;
  client: ApiClient;
  nodes: string[];
  io: Io;
  signal: AbortSignal;
  /** The site started something (an operation `wid`): a failure from now on is `lost`, not `refused`. */
  started(wid: string): void;
  /** The site's status for the progress line over every site (terminal only). */
  onStatus?: ((st: OperationStatus) => void) | undefined;
}

export interface FanOutOptions {
  io: Io;
  signal: AbortSignal;
  /** A live progress line over every site on a terminal (operations that are followed). */
  progress?: boolean;
  /** `csv`: stdout carries CSV records prefixed with the server's name as a first field (kastat3). */
  out?: 'lines' | 'csv';
  /** Where sites write instead of the prefixed streams (kadeploy3's one-site run: the command's own). */
  outputs?: SiteOutputs;
}

/**
 * The one fan-out of every -M command: runs `task` on every site of the plan concurrently
 * (bounded), each writing `[site]`-prefixed lines (or records) to the command's streams. Whatever
 * a site's task throws becomes that site's failure, printed as its error line, while the others
 * go on; a site without a client fails as unreachable without running. Never throws; every site
 * settles (each task handles the abort itself: its requests carry the signal), so every outcome
 * is reported.
 */
export async function fanOut<R>(
  plan: GridPlan,
  o: FanOutOptions,
  task: (site: SiteContext) => Promise<R>,
): Promise<SiteRun<R>[]> {
  const outputs =
    o.outputs ??
    gridOutputs(
      o.io,
      plan.sites.map((s) => s.name),
      o.progress === true,
      o.out ?? 'lines',
    );
  outputs.start();
  try {
    return await pMap(
      plan.sites,
      async (s): Promise<SiteRun<R>> => {
        const sio = outputs.open(s.name);
        const run: SiteRun<R> = { server: s.name, nodes: [...s.nodes] };
        try {
          if (!s.client) throw new UnreachableSite(s.unreachable ?? `server ${s.name} unreachable`);
          run.value = await task({
            name: s.name,
            client: s.client,
            nodes: [...s.nodes],
            io: sio,
            signal: o.signal,
            started: (wid) => {
              run.wid = wid;
            },
            onStatus: outputs.onStatus(s.name),
          });
        } catch (e) {
          run.failure = failureOf(e, run.wid !== undefined, o.signal.aborted);
          sio.err.write(formatErrorLine(e));
        } finally {
          await sio.close();
        }
        return run;
      },
      { concurrency: SITE_CONCURRENCY },
    );
  } finally {
    outputs.stop();
  }
}

/** A site the plan could not reach (dropped by the probe): never asked anything. */
class UnreachableSite extends Error {}

function failureOf(e: unknown, started: boolean, aborted: boolean): GridFailure {
  const code = isKaployError(e) ? e.code : 'KAPLOY_CLIENT';
  const stage: GridFailureStage = aborted
    ? 'cancelled'
    : e instanceof UnreachableSite
      ? 'unreachable'
      : started || e instanceof ServerSilentError
        ? 'lost'
        : code === 'KAPLOY_CLIENT'
          ? 'unreachable'
          : 'refused';
  return { stage, code, message: errorMessage(e), cause: e };
}
