import { randomUUID } from 'node:crypto';
import type { PassThrough } from 'node:stream';
import type { ConsoleView } from '../../api/console-view.js';
import { KaployError } from '../../common/errors.js';
import { clusterOf } from '../../common/site-config.js';
import type { AuthenticatedUser } from '../auth/authenticate.js';
import type { EngineContext } from '../server/context.js';
import { notFound } from '../server/http-errors.js';
import { spawnConsole } from './console-process.js';
import { ConsoleSession } from './console-session.js';
import { targetNodes } from './target-nodes.js';

/** A session nobody reads within this delay is closed (the client died between its two requests). */
const ATTACH_TIMEOUT_MS = 30_000;

/**
 * kaconsole3 sessions (C- ids): one per node at a time, as a physical console has one keyboard.
 * Each is an operation in ctx.operations (kind console), so `karights3 -d` closes it, and a row
 * in the workflows table while it is open.
 * Not a kind of OperationService: a session has no per-node outcome, no statistics row, no log to
 * read at a verbosity and no result to keep; it is a byte stream that lasts as long as its reader,
 * and a crash leaves nothing to settle but its row (closed at start, below).
 */
export class ConsoleService {
  readonly #sessions = new Map<string, ConsoleSession>();

  constructor(private readonly ctx: EngineContext) {
    // Consoles cannot outlive the engine process: close the records an earlier run left open.
    for (const w of ctx.store.workflows.list({ kind: 'console', unfinished: true }))
      ctx.store.workflows.setStatus(w.wid, 'closed', true);
  }

  open(caller: AuthenticatedUser, nodeName: string): ConsoleView {
    const [node] = targetNodes(this.ctx, caller, [nodeName], 'open a console on');
    if (!node) throw new KaployError('KAPLOY_NODE_LIST', 'no node given');
    const busy = [...this.#sessions.values()].find(
      (s) => s.node === node.name && s.closedReason === undefined,
    );
    if (busy) {
      throw new KaployError(
        'KAPLOY_CONFLICT',
        `a console is already open on ${node.name} (${busy.wid} by ${busy.user}); one session per node`,
        { node: node.name },
      );
    }
    const child = spawnConsole(this.ctx.config.site, clusterOf(this.ctx.config, node.cluster), node);
    const wid = `C-${randomUUID()}`;
    const s = new ConsoleSession(wid, caller.name, node.name, child);
    this.#sessions.set(wid, s);
    this.ctx.store.workflows.insert({
      wid,
      kind: 'console',
      user: caller.name,
      status: 'running',
      request: { nodes: [node.name] },
    });
    const unregister = this.ctx.operations.register({
      wid,
      kind: 'console',
      user: caller.name,
      nodes: [node.name],
      cancel: (reason) => s.close(reason),
    });
    const onShutdown = () => s.close('the server is shutting down');
    this.ctx.signal.addEventListener('abort', onShutdown, { once: true });
    const orphan = setTimeout(() => {
      if (!s.attached) s.close('no client attached');
    }, ATTACH_TIMEOUT_MS);
    orphan.unref();
    void s.closed.then(() => {
      clearTimeout(orphan);
      unregister();
      this.ctx.signal.removeEventListener('abort', onShutdown);
      this.#sessions.delete(wid);
      try {
        this.ctx.store.workflows.setStatus(wid, 'closed', true);
      } catch (e) {
        // The engine stopped first and its store is closed: the next start closes this record.
        this.ctx.logger.debug({ err: e, workflow: wid }, 'console record left open for the next start');
      }
      this.ctx.logger.info({ workflow: wid, node: node.name, reason: s.closedReason }, 'console closed');
    });
    this.ctx.logger.info({ workflow: wid, node: node.name, user: caller.name }, 'console opened');
    return this.#view(s);
  }

  #get(caller: AuthenticatedUser, wid: string): ConsoleSession {
    const s = this.#sessions.get(wid);
    if (!s || (s.user !== caller.name && !caller.admin))
      throw notFound('KAPLOY_INVALID_WORKFLOW_ID', `no open console ${wid}`);
    return s;
  }

  /** The session's output, for its one reader; the session closes when the reader goes. */
  attach(caller: AuthenticatedUser, wid: string): PassThrough {
    const s = this.#get(caller, wid);
    if (s.attached) throw new KaployError('KAPLOY_CONFLICT', `console ${wid} already has a reader`);
    return s.attach();
  }

  input(caller: AuthenticatedUser, wid: string, data: Buffer): void {
    const s = this.#get(caller, wid);
    if (s.closedReason !== undefined)
      throw new KaployError('KAPLOY_EXECUTE', `console ${wid} is closed: ${s.closedReason}`);
    s.input(data);
  }

  close(caller: AuthenticatedUser, wid: string, reason = `closed by ${caller.name}`): void {
    this.#get(caller, wid).close(reason);
  }

  /** Whether the session's one reader is there (the Kadeploy listener's `attached`). */
  attached(caller: AuthenticatedUser, wid: string): boolean {
    return this.#get(caller, wid).attached;
  }

  /** Settles with the reason once the session closed, whoever closed it. */
  async whenClosed(caller: AuthenticatedUser, wid: string): Promise<string> {
    const s = this.#get(caller, wid);
    await s.closed;
    return s.closedReason ?? 'closed';
  }

  list(caller: AuthenticatedUser): ConsoleView[] {
    return [...this.#sessions.values()]
      .filter((s) => s.closedReason === undefined && (s.user === caller.name || caller.admin))
      .map((s) => this.#view(s));
  }

  #view(s: ConsoleSession): ConsoleView {
    return { wid: s.wid, user: s.user, node: s.node, startedAt: s.startedAt };
  }

  async idle(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((s) => s.closed));
  }
}
