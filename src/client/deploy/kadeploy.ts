import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeployRequest, EnvironmentRef } from '../../api/deploy-request.js';
import type { LogPage, OperationOutcome, OperationStatus } from '../../api/operation-status.js';
import { KaployError } from '../../common/errors.js';
import type { ApiClient } from '../http-client.js';
import { progressLine } from './progress-line.js';

/** kadeploy3 as a library: the CLI only parses flags into these options. */
export interface KadeployOptions {
  nodes: string[];
  environment: EnvironmentRef;
  keys?: { file: string; text: string };
  request: Omit<DeployRequest, 'nodes' | 'environment' | 'keys'>;
  verbose: number;
  outputOk?: string;
  outputKo?: string;
  script?: string;
  writeWorkflowId?: string;
  wait: boolean;
  dryRun: boolean;
  /** Resume the deployment WID stopped at its breakpoint instead of starting one. */
  resume?: string;
  pollIntervalMs?: number;
}

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface KadeployResult {
  wid?: string;
  outcomes: OperationOutcome[];
  started: boolean;
}

export async function runKadeploy(
  client: ApiClient,
  o: KadeployOptions,
  io: Io,
  signal: AbortSignal,
): Promise<KadeployResult> {
  if (o.outputOk && o.outputKo && o.outputOk === o.outputKo) {
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      '-o/--output-ok-nodes and -n/--output-ko-nodes must name different files',
    );
  }
  if (!o.wait && (o.outputOk || o.outputKo)) {
    throw new KaployError(
      'KAPLOY_CONFLICTING_OPTIONS',
      '-o/-n cannot be used with --no-wait (the result is not known when kadeploy3 returns)',
    );
  }
  const body: DeployRequest = {
    ...o.request,
    nodes: o.nodes,
    environment: o.environment,
    ...(o.keys ? { keys: o.keys.text } : {}),
  };
  if (o.dryRun) {
    const plan = await client.request<{
      environment: string;
      description: string;
      nodes: string[];
      steps: string[];
    }>('POST', '/deployment', {
      body,
      query: { dry_run: true },
      signal,
    });
    io.out.write(`Dry run: deployment of ${plan.environment} on ${plan.nodes.length} node(s)\n`);
    io.out.write(plan.description.endsWith('\n') ? plan.description : `${plan.description}\n`);
    io.out.write(`Steps: ${plan.steps.join(' ')}\n`);
    return { outcomes: [], started: false };
  }
  if (o.keys && o.verbose >= 3) io.out.write(`Grab the key file ${o.keys.file}\n`);
  const { wid } = o.resume
    ? await client.request<{ wid: string }>('POST', `/deployment/${encodeURIComponent(o.resume)}/resume`, {
        signal,
      })
    : await client.request<{ wid: string }>('POST', '/deployment', { body, signal });
  if (o.writeWorkflowId) writeFileSync(o.writeWorkflowId, `${wid}\n`);
  if (!o.wait) {
    io.out.write(`${wid}\n`);
    return { wid, outcomes: [], started: true };
  }
  const status = await follow(client, wid, o, io, signal);
  const outcomes = status.outcomes ?? [];
  io.out.write(renderSummary(outcomes));
  writeNodeFiles(o, outcomes);
  if (o.script) await runScript(o.script, io);
  if (status.error) throw new KaployError(status.error.code as never, status.error.message);
  return { wid, outcomes, started: true };
}

/** Spacing of log requests when the engine answers a long poll at once (a busy -V 5 log). */
const MIN_POLL_GAP_MS = 200;
/** How often the operation's status is read for a progress display. */
const STATUS_EVERY_MS = 500;

export interface FollowOptions extends Pick<KadeployOptions, 'verbose' | 'pollIntervalMs'> {
  /** Called with the operation's status while it runs (kadeploy3 -M's progress line). */
  onStatus?: (st: OperationStatus) => void;
}

/** Streams the log and a live progress line until the operation ends; Ctrl-C cancels it on the server. */
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
  const tty = io.err.isTTY === true;
  let statusAt = 0;
  for (;;) {
    if (signal.aborted && !cancelled) {
      cancelled = true;
      if (tty) io.err.write('\r\x1b[K');
      io.err.write(`Cancelling ${wid}...\n`);
      await client.request('DELETE', `/${kind}/${wid}`).catch(() => undefined);
    }
    const asked = Date.now();
    // Long poll: the engine answers as soon as there is news, so the end is seen at once.
    const page = await client.request<LogPage>('GET', `/${kind}/${wid}/logs`, {
      query: { from, verbosity: o.verbose, wait_ms: o.pollIntervalMs ?? 1000 },
    });
    if (page.lines.length > 0) {
      if (tty) io.err.write('\r\x1b[K');
      io.out.write(page.lines.map((l) => `${l}\n`).join(''));
    }
    from = page.next;
    if (page.done) break;
    if ((tty || o.onStatus) && Date.now() - statusAt >= STATUS_EVERY_MS) {
      statusAt = Date.now();
      const st = await client.request<OperationStatus>('GET', `/${kind}/${wid}`);
      if (tty) io.err.write(`\r\x1b[K${progressLine(st, (Date.now() - started) / 1000)}`);
      o.onStatus?.(st);
    }
    // A long poll that answered early still leaves MIN_POLL_GAP_MS between requests.
    const pause = MIN_POLL_GAP_MS - (Date.now() - asked);
    if (pause > 0) await sleep(pause).catch(() => undefined);
  }
  if (tty) io.err.write('\r\x1b[K');
  return client.request<OperationStatus>('GET', `/${kind}/${wid}`);
}

export function renderSummary(outcomes: readonly OperationOutcome[], what = 'deployment'): string {
  const ok = outcomes.filter((x) => x.status === 'ok');
  const stopped = outcomes.filter((x) => x.status === 'breakpoint');
  const ko = outcomes.filter((x) => x.status === 'ko' || x.status === 'cancelled');
  let s = '';
  if (ok.length > 0) s += `\nThe ${what} is successful on nodes\n${ok.map((x) => `${x.node}\n`).join('')}`;
  if (stopped.length > 0) {
    s += `\nThe ${what} stopped at its breakpoint on nodes\n${stopped.map((x) => `${x.node} (${x.impl}-${x.micro})\n`).join('')}`;
  }
  if (ko.length > 0) {
    s += `\nThe ${what} failed on nodes\n${ko.map((x) => `${x.node} (${x.impl ?? '?'}-${x.micro ?? '?'}: ${x.reason ?? x.status})\n`).join('')}`;
  }
  return s;
}

function writeNodeFiles(o: KadeployOptions, outcomes: readonly OperationOutcome[]): void {
  // Kadeploy opens -o/-n in append mode.
  const ok = outcomes.filter((x) => x.status === 'ok').map((x) => `${x.node}\n`);
  const ko = outcomes.filter((x) => x.status === 'ko' || x.status === 'cancelled').map((x) => `${x.node}\n`);
  if (o.outputOk && ok.length > 0) appendFileSync(o.outputOk, ok.join(''));
  if (o.outputKo && ko.length > 0) appendFileSync(o.outputKo, ko.join(''));
  if (o.outputOk && ok.length === 0) appendFileSync(o.outputOk, '');
  if (o.outputKo && ko.length === 0) appendFileSync(o.outputKo, '');
}

/** -s FILE: runs the user's script at the end, as Kadeploy does (no shell: the file is executed). */
function runScript(file: string, io: Io): Promise<void> {
  io.out.write(`Running ${file}\n`);
  return new Promise((resolve) => {
    const child = spawn(file, [], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => io.out.write(d));
    child.stderr.on('data', (d) => io.err.write(d));
    child.on('error', () => {
      io.out.write('Fail !\n');
      resolve();
    });
    child.on('close', (code) => {
      io.out.write(code === 0 ? 'Success !\n' : 'Fail !\n');
      resolve();
    });
  });
}
