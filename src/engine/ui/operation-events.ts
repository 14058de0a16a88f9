import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OperationStatus } from '../../api/operation-status.js';
import { errorMessage } from '../../common/errors.js';
import type { BaseOutcome, PlanKind } from '../operations/operation-kind.js';
import type { OperationService } from '../operations/operation-service.js';

/** Streams open at once, engine-wide: each holds a socket and wakes at every step of its operation. */
const MAX_STREAMS = 200;
/** Updates are sent at most this often: hundreds of nodes changing step make one message, not hundreds. */
const MIN_INTERVAL_MS = 250;
/** A comment this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

let open = 0;

function compact(st: OperationStatus) {
  return {
    status: st.status,
    finishedAt: st.finishedAt ?? null,
    nodes: st.nodes,
    ...(st.error ? { error: st.error } : {}),
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * GET /ui/operations/:wid/events: server-sent events of one operation, as the caller may read it
 * (the operation service's rights, asked again at every update): `status` (each node's state and
 * steps), `log` (new lines at the page's verbosity, from `from`), then `end`. The first status is
 * checked before the stream opens, so a refusal is an ordinary error answer.
 */
export async function streamOperation(
  request: FastifyRequest,
  reply: FastifyReply,
  svc: OperationService,
  kind: PlanKind<BaseOutcome>,
  wid: string,
  q: { from: number; verbosity: number },
  engineSignal: AbortSignal,
): Promise<void> {
  const caller = request.user;
  let st = svc.status(caller, kind, wid);
  if (open >= MAX_STREAMS) {
    await reply.code(503).header('retry-after', '5').type('text/plain').send('too many live views open');
    return;
  }
  open++;
  const ac = new AbortController();
  const signal = AbortSignal.any([ac.signal, engineSignal]);
  const raw = reply.raw;
  reply.hijack();
  raw.on('close', () => ac.abort(new Error('client went away')));
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    connection: 'keep-alive',
  });
  const send = (event: string, data: unknown) =>
    raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  let from = q.from;
  try {
    for (;;) {
      const page = svc.logs(caller, kind, wid, { from, verbosity: q.verbosity, debug: false });
      send('status', compact(st));
      if (page.lines.length > 0) send('log', { lines: page.lines });
      from = page.next;
      if (st.status !== 'running' && page.done) {
        send('end', { status: st.status });
        break;
      }
      const started = Date.now();
      await svc.changed(caller, kind, wid, HEARTBEAT_MS, signal);
      if (signal.aborted) break;
      if (Date.now() - started >= HEARTBEAT_MS) raw.write(': still running\n\n');
      await sleep(MIN_INTERVAL_MS, signal);
      if (signal.aborted) break;
      st = svc.status(caller, kind, wid);
    }
  } catch (e) {
    // The operation became unreadable (rights) or the store failed: the stream says so and ends.
    if (!raw.destroyed) send('failure', { message: errorMessage(e) });
  } finally {
    open--;
    raw.end();
  }
}
