import { setTimeout as sleep } from 'node:timers/promises';
import type { LogPage, OperationStatus } from '../../api/operation-status.js';
import { KaployError } from '../../common/errors.js';
import { type ApiClient, ServerUnreachableError } from '../http-client.js';
import { progressWanted } from '../terminal-settings.js';
import { progressLine } from './progress-line.js';

/** Where a command writes: its log and results on `out`, errors and the progress line on `err`. */
export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Spacing of log requests when the engine answers a long poll at once (a busy -V 5 log). */
const MIN_POLL_GAP_MS = 200;
/** How often the operation's status is read for a progress display. */
const STATUS_EVERY_MS = 500;
/** The engine holds a log request at most this long (operation-routes' wait_ms maximum). */
const MAX_WAIT_MS = 30_000;
/** Spacing of the requests to an engine that cannot be reached (restarting). */
const RECONNECT_GAP_MS = 500;

export interface FollowOptions {
  verbose: number;
  pollIntervalMs?: number | undefined;
  /** Called with the operation's status while it runs (kadeploy3 -M's progress line). */
  onStatus?: (st: OperationStatus) => void;
}

/**
 * Streams the log and a live progress line until the operation ends; Ctrl-C cancels it on the server.
 * Every poll is bounded by the client's silence deadline (server_timeout): an engine that hangs
 * makes follow() throw ServerSilentError instead of waiting forever, so -M reports its site lost.
 * An engine that cannot be reached (restarting: it resumes its operations under the same id) is
 * asked again for server_timeout before follow() gives up, and the same operation is followed on.
 */
export async function follow(
  client: ApiClient,
  wid: string,
  o: FollowOptions,
  io: Io,
  signal: AbortSignal,
): Promise<OperationStatus> {
  const kind = wid.startsWith('R-') ? 'reboot' : wid.startsWith('P-') ? 'power' : 'deployment';
  const started = Date.now();
  let from = 0;
  let cancelled = false;
  const tty = progressWanted(io.err);
  let statusAt = 0;
  const ask = reconnecting(client, wid, io, signal);
  for (;;) {
    if (signal.aborted && !cancelled) {
      cancelled = true;
      if (tty) io.err.write('\r\x1b[K');
      io.err.write(`Cancelling ${wid}...\n`);
      await client.request('DELETE', `/${kind}/${wid}`).catch(() => undefined);
    }
    const asked = Date.now();
    // Long poll: the engine answers as soon as there is news, so the end is seen at once.
    const page = checkPage(
      await ask(() =>
        client.request<unknown>('GET', `/${kind}/${wid}/logs`, {
          query: { from, verbosity: o.verbose, wait_ms: Math.min(o.pollIntervalMs ?? 1000, MAX_WAIT_MS) },
        }),
      ),
      client.serverName,
    );
    if (page.lines.length > 0) {
      if (tty) io.err.write('\r\x1b[K');
      io.out.write(page.lines.map((l) => `${l}\n`).join(''));
    }
    from = page.next;
    if (page.done) break;
    if ((tty || o.onStatus) && Date.now() - statusAt >= STATUS_EVERY_MS) {
      statusAt = Date.now();
      const st = await ask(() => client.request<OperationStatus>('GET', `/${kind}/${wid}`));
      if (tty) io.err.write(`\r\x1b[K${progressLine(st, (Date.now() - started) / 1000)}`);
      o.onStatus?.(st);
    }
    // A long poll that answered early still leaves MIN_POLL_GAP_MS between requests.
    const pause = MIN_POLL_GAP_MS - (Date.now() - asked);
    if (pause > 0) await sleep(pause).catch(() => undefined);
  }
  if (tty) io.err.write('\r\x1b[K');
  return ask(() => client.request<OperationStatus>('GET', `/${kind}/${wid}`));
}

/**
 * Runs follow()'s requests: one that finds the engine unreachable is sent again every
 * RECONNECT_GAP_MS until the engine answers, for server_timeout (the client's deadline) from the
 * first failure at most; the loss and the return are said once each on `err`.
 */
function reconnecting(client: ApiClient, wid: string, io: Io, signal: AbortSignal) {
  let lostAt: number | undefined;
  return async <T>(send: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        const answer = await send();
        if (lostAt !== undefined) io.err.write(`Server ${client.serverName} is back, following ${wid} on\n`);
        lostAt = undefined;
        return answer;
      } catch (e) {
        if (!(e instanceof ServerUnreachableError) || signal.aborted) throw e;
        if (lostAt === undefined) {
          lostAt = Date.now();
          io.err.write(
            `Lost the connection to server ${client.serverName}, trying again for ${Math.round(client.deadlineMs / 1000)} s (server_timeout)\n`,
          );
        }
        if (Date.now() - lostAt >= client.deadlineMs) throw e;
        await sleep(RECONNECT_GAP_MS, undefined, { signal }).catch(() => undefined);
      }
    }
  };
}

/** A log page from the engine, checked: an engine answering something else is an error, not a crash. */
function checkPage(x: unknown, server: string): LogPage {
  const p = x as Partial<LogPage> | undefined;
  if (
    typeof p !== 'object' ||
    p === null ||
    !Array.isArray(p.lines) ||
    !p.lines.every((l) => typeof l === 'string') ||
    typeof p.next !== 'number' ||
    typeof p.done !== 'boolean'
  ) {
    throw new KaployError(
      'KAPLOY_CLIENT',
      `server ${server} answered a log request with something else than a log page`,
    );
  }
  return p as LogPage;
}
