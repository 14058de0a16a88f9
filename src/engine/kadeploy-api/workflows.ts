import type { OperationStatus } from '../../api/operation-status.js';
import { APP_CODES, KaployError, type KaployErrorCode } from '../../common/errors.js';
import { nodeIndex } from '../../common/site-config.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { BaseOutcome, PlanKind } from '../operations/operation-kind.js';
import type { OperationService } from '../operations/operation-service.js';
import type { EngineContext } from '../server/context.js';
import { entry } from './params.js';

type AnyKind = PlanKind<BaseOutcome>;

/** The environment line of a Kadeploy workflow resource (id -1: anonymous, as Kadeploy says). */
export interface WorkflowEnvironment {
  id: number;
  user: string;
  name: string;
  version: number;
}

/** What the listener keeps of one operation it started, beside what the operation service keeps. */
interface Reader {
  /** Kadeploy's logs and debugs are consumed on read: where the next read starts. */
  logFrom: number;
  debugFrom: number;
  verbosity: number;
  environment?: WorkflowEnvironment;
  /** DELETE /<kind>/:wid: Kadeploy forgets the workflow; the operation's records stay kaploy's. */
  forgotten: boolean;
}

/** The most operations whose readers are held; the oldest are dropped first (Map keeps insertion order). */
const MAX_READERS = 10_000;
const WID_RE = /^[DRP]-[0-9a-f-]{36}$/;
/** A per-node debug line of the operation log (OperationLog.debugLine). */
const DEBUG_LINE = /^ {2}\[[^\]]+\] /;

const invalidWid = (kind: AnyKind, wid: string) =>
  new KaployError('KAPLOY_INVALID_WORKFLOW_ID', `no ${kind.noun} ${wid}`);

/**
 * Still going: running, preparing (its checks, an image download) or queued by admission control,
 * the last two before any node is touched.
 */
const active = (s: OperationStatus) =>
  s.status === 'running' || s.status === 'preparing' || s.status === 'queued';

const seconds = (ms: number) => Math.round(ms / 10) / 100;

/** A log line as Kadeploy sends it: `<epoch seconds>|<text>` (read time: kaploy keeps no per-line time). */
const stamp = (lines: readonly string[]) => {
  const t = (Date.now() / 1000).toFixed(5);
  return lines.map((l) => `${t}|${l}\n`).join('');
};

/**
 * Kadeploy's view of the operations of one kind: workflow resources (`done`, `error`, `logs`,
 * `nodes{ok,ko,processing}`, `time`), per-node `state`, per-cluster `status`, the `error`, logs and
 * debugs consumed on read, DELETE. Everything read comes from the operation service the native
 * routes read, with the same owner-or-admin rule; an operation started from the native API (or by
 * another listener) is readable too, its logs from their start.
 */
export class KadeployWorkflows {
  readonly #readers = new Map<string, Reader>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly svc: () => OperationService,
  ) {}

  /** Records an operation this listener started, with the reader's verbosity (verbose_level). */
  started(wid: string, verbosity: number, environment?: WorkflowEnvironment): void {
    this.#readers.set(wid, {
      logFrom: 0,
      debugFrom: 0,
      verbosity,
      forgotten: false,
      ...(environment ? { environment } : {}),
    });
    while (this.#readers.size > MAX_READERS) {
      const oldest = this.#readers.keys().next().value as string;
      this.#readers.delete(oldest);
    }
  }

  #reader(wid: string): Reader {
    let r = this.#readers.get(wid);
    if (!r) {
      r = { logFrom: 0, debugFrom: 0, verbosity: 3, forgotten: false };
      this.#readers.set(wid, r);
    }
    return r;
  }

  /** The operation's status when it exists, is of this kind, is the caller's (or an admin's) and was not deleted. */
  #status(caller: AuthenticatedUser, kind: AnyKind, wid: string): OperationStatus {
    if (!WID_RE.test(wid) || this.#readers.get(wid)?.forgotten) throw invalidWid(kind, wid);
    return this.svc().status(caller, kind, wid);
  }

  #resource(caller: AuthenticatedUser, kind: AnyKind, s: OperationStatus) {
    const r = this.#reader(s.wid);
    // preparing (an image download before any node is touched) is not done either.
    const done = !active(s);
    const error = s.status === 'failed';
    const nodes = { ok: [] as string[], ko: [] as string[], processing: [] as string[] };
    if (done && s.outcomes) {
      for (const o of s.outcomes)
        (o.status === 'ok' || o.status === 'breakpoint' ? nodes.ok : nodes.ko).push(o.node);
    } else {
      for (const [node, v] of Object.entries(s.nodes))
        (v.state === 'ok' || v.state === 'breakpoint'
          ? nodes.ok
          : v.state === 'ko' || v.state === 'cancelled'
            ? nodes.ko
            : nodes.processing
        ).push(node);
    }
    const logs =
      !error &&
      this.svc().logs(caller, kind, s.wid, { from: r.logFrom, verbosity: r.verbosity, debug: false }).lines
        .length > 0;
    return {
      wid: s.wid,
      user: s.user,
      done,
      error,
      start_time: Math.floor(s.startedAt / 1000),
      ...(r.environment ? { environment: r.environment } : environmentOf(s)),
      ...(error ? {} : { logs }),
      nodes: done ? { ok: nodes.ok, ko: nodes.ko } : nodes,
      time: seconds((s.finishedAt ?? Date.now()) - s.startedAt),
    };
  }

  get(caller: AuthenticatedUser, kind: AnyKind, wid: string) {
    return this.#resource(caller, kind, this.#status(caller, kind, wid));
  }

  list(caller: AuthenticatedUser, kind: AnyKind) {
    return this.svc()
      .list(caller, kind)
      .filter((s) => !this.#readers.get(s.wid)?.forgotten)
      .map((s) => this.#resource(caller, kind, s));
  }

  /** GET /:wid/state: each node's macro, micro, state and error. */
  state(caller: AuthenticatedUser, kind: AnyKind, wid: string) {
    const s = this.#status(caller, kind, wid);
    if (s.status === 'failed') return {};
    const out: Record<string, { macro?: string; micro?: string; state: string; error?: string }> = {};
    for (const [node, v] of Object.entries(s.nodes))
      out[node] = {
        ...(v.macro ? { macro: v.macro } : {}),
        ...(v.micro ? { micro: v.micro } : {}),
        state: v.state,
        ...(v.error ? { error: v.error } : {}),
      };
    return out;
  }

  /** GET /:wid/status: where the nodes are, per cluster, macro- and micro-step, while it runs. */
  status(caller: AuthenticatedUser, kind: AnyKind, wid: string) {
    const s = this.#status(caller, kind, wid);
    const out: Record<
      string,
      Record<string, Record<string, { nodes: { OK: string[]; KO: string[]; '**': string[] } }>>
    > = {};
    if (!active(s)) return out;
    const index = nodeIndex(this.ctx.config);
    for (const [node, v] of Object.entries(s.nodes)) {
      const cluster = index.get(node)?.cluster ?? '';
      const macro = v.macro ?? kind.title;
      const micro = v.micro ?? 'waiting';
      const byMacro = entry(out, cluster, () => ({}));
      const byMicro = entry(byMacro, macro, () => ({}));
      const at = entry(byMicro, micro, () => ({
        nodes: { OK: [] as string[], KO: [] as string[], '**': [] as string[] },
      }));
      (v.state === 'ok' || v.state === 'breakpoint'
        ? at.nodes.OK
        : v.state === 'ko' || v.state === 'cancelled'
          ? at.nodes.KO
          : at.nodes['**']
      ).push(node);
    }
    return out;
  }

  /** GET /:wid/error: the error of an operation that failed as a whole, as Kadeploy raises it. */
  error(caller: AuthenticatedUser, kind: AnyKind, wid: string): string {
    const s = this.#status(caller, kind, wid);
    if (s.status !== 'failed' || !s.error) return '';
    const code = (s.error.code in APP_CODES ? s.error.code : 'KAPLOY_INTERNAL') as KaployErrorCode;
    throw new KaployError(code, s.error.message);
  }

  /** GET /:wid/logs[/:cluster]: the lines not read yet, at the verbosity asked at the start. */
  logs(caller: AuthenticatedUser, kind: AnyKind, wid: string, cluster?: string): string {
    const s = this.#status(caller, kind, wid);
    if (cluster !== undefined) this.#assertCluster(s, cluster);
    if (s.status === 'failed') return '';
    const r = this.#reader(wid);
    const page = this.svc().logs(caller, kind, wid, {
      from: r.logFrom,
      verbosity: r.verbosity,
      debug: false,
    });
    r.logFrom = page.next;
    // An operation started with debug shows its debug lines to every reader; Kadeploy keeps them apart (/debugs).
    return stamp(page.lines.filter((l) => !DEBUG_LINE.test(l)));
  }

  /** GET /:wid/debugs[/:node]: the per-node debug lines (debug was asked) not read yet. */
  debugs(caller: AuthenticatedUser, kind: AnyKind, wid: string, node?: string): string {
    const s = this.#status(caller, kind, wid);
    if (node !== undefined && !(node in s.nodes))
      throw new KaployError('KAPLOY_NOT_FOUND', `no node ${node} in ${wid}`);
    if (s.status === 'failed') return '';
    const r = this.#reader(wid);
    const page = this.svc().logs(caller, kind, wid, { from: r.debugFrom, verbosity: -1, debug: true });
    r.debugFrom = page.next;
    const mine = page.lines.filter((l) =>
      node === undefined ? DEBUG_LINE.test(l) : l.startsWith(`  [${node}] `),
    );
    return stamp(mine);
  }

  /** DELETE /:wid: cancels it when it runs; either way Kadeploy's view of it is gone. */
  delete(caller: AuthenticatedUser, kind: AnyKind, wid: string): { wid: string } {
    const s = this.#status(caller, kind, wid);
    if (active(s)) this.svc().cancel(caller, kind, wid);
    this.#reader(wid).forgotten = true;
    return { wid };
  }

  #assertCluster(s: OperationStatus, cluster: string): void {
    const index = nodeIndex(this.ctx.config);
    if (!Object.keys(s.nodes).some((n) => index.get(n)?.cluster === cluster))
      throw new KaployError('KAPLOY_NOT_FOUND', `no cluster ${cluster} in ${s.wid}`);
  }
}

/** `name:version` of an operation not started here: the owner is unknown, the id too. */
function environmentOf(s: OperationStatus): { environment?: WorkflowEnvironment } {
  const m = s.environment ? /^(.*):(\d+)$/.exec(s.environment) : null;
  if (!m) return {};
  return { environment: { id: -1, user: s.user, name: m[1] as string, version: Number(m[2]) } };
}
