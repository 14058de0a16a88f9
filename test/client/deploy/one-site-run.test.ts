import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OperationStatus } from '../../../src/api/operation-status.js';
import { runDeployment } from '../../../src/client/deploy/run.js';
import type { DeployRunOptions } from '../../../src/client/deploy/run-options.js';
import { oneSite } from '../../../src/client/deploy/site-plan.js';
import { gridSites } from '../../../src/client/grid/grid-sites.js';
import { ApiClient } from '../../../src/client/http-client.js';
import { KaployError } from '../../../src/common/errors.js';
import { KAPLOY_VERSION } from '../../../src/common/version.js';

/**
 * The one run on one site and with -M, against a scripted engine: what differs is only how a
 * site's failure is reported (thrown on one site, prefixed and merged with -M).
 */
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let engine: Server;
let url: string;
let handle: Handler;
const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-one-site-'));
const tokenFile = path.join(dir, 'token');
const requests: string[] = [];

beforeAll(async () => {
  writeFileSync(tokenFile, 'fake-engine-token-0123\n', { mode: 0o600 });
  engine = createServer((req, res) => {
    requests.push(`${req.method} ${req.url?.split('?')[0]}`);
    req.resume();
    req.on('end', () => handle(req, res));
  });
  await new Promise<void>((r) => engine.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(engine.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => engine.close(r));
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  requests.length = 0;
  vi.unstubAllEnvs();
});

const json = (res: ServerResponse, code: number, body: unknown) =>
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const failed: OperationStatus = {
  wid: 'D-1',
  kind: 'deploy',
  user: 'me',
  status: 'failed',
  startedAt: 0,
  nodes: {},
  outcomes: [{ node: 'n-1.fake', status: 'ko', reason: 'Checksum mismatch' }],
  error: { code: 'KAPLOY_CHECKSUM', message: 'Checksum mismatch' },
};

/** An engine that serves n-1.fake, refuses deployments or runs one that fails as a whole. */
function scripted(deploy: 'refuse' | 'fail'): Handler {
  return (req, res) => {
    const p = req.url?.split('?')[0];
    // What a real engine answers: -M drops an engine of another API version (grid/engine-version.ts).
    if (p === '/version') return json(res, 200, { version: KAPLOY_VERSION, site: 'fake' });
    if (p === '/nodes') return json(res, 200, ['n-1.fake']);
    if (req.method === 'POST' && p === '/deployment')
      return deploy === 'refuse'
        ? json(res, 403, {
            error: { code: 'KAPLOY_RIGHTS', message: 'You do not have the right to deploy on n-1.fake' },
          })
        : json(res, 200, { wid: 'D-1' });
    if (p === '/deployment/D-1/logs') {
      // The first page leaves the deployment running, so a progress line is drawn once.
      const first = new URL(req.url ?? '', url).searchParams.get('from') === '0';
      return json(
        res,
        200,
        first
          ? { lines: ['Deployment #D-1 started'], next: 1, done: false }
          : { lines: ['Deployment #D-1 failed'], next: 2, done: true },
      );
    }
    if (p === '/deployment/D-1') return json(res, 200, failed);
    json(res, 404, { error: { code: 'KAPLOY_NOT_FOUND', message: `no ${p}` } });
  };
}

function capture() {
  let text = '';
  return {
    s: new Writable({
      write(chunk, _enc, cb) {
        text += String(chunk);
        cb();
      },
    }),
    text: () => text,
  };
}

async function run(multi: boolean, extra: Partial<DeployRunOptions> = {}, tty = false) {
  const out = capture();
  const err = capture();
  // A terminal, as a user's: stderr is a TTY and TERM names a terminal type (progressWanted).
  if (tty) {
    Object.assign(err.s, { isTTY: true });
    vi.stubEnv('TERM', 'xterm');
    vi.stubEnv('KAPLOY_PROGRESS', undefined);
  }
  const o: DeployRunOptions = {
    nodes: ['n-1.fake'],
    environment: { kind: 'recorded', name: 'tiny' },
    request: {},
    verbose: 3,
    wait: true,
    dryRun: false,
    ...(multi ? { multiServer: true } : {}),
    ...extra,
  };
  const sites = multi
    ? gridSites([{ name: 'fake', url, tokenFile }])
    : oneSite(new ApiClient({ url, token: 'fake-engine-token-0123', serverName: 'fake' }));
  let error: unknown;
  const res = await runDeployment(o, { out: out.s, err: err.s }, new AbortController().signal, sites).catch(
    (e) => {
      error = e;
      return undefined;
    },
  );
  return { res, error, out: out.text(), err: err.text() };
}

describe('a site that refuses the deployment', () => {
  it('on one site: the engine error is the run error, nothing printed, no -n file', async () => {
    const ko = path.join(dir, 'ko-refused-one');
    handle = scripted('refuse');
    const r = await run(false, { outputKo: ko });
    expect(r.error).toBeInstanceOf(KaployError);
    expect((r.error as KaployError).code).toBe('KAPLOY_RIGHTS');
    expect((r.error as KaployError).message).toBe('You do not have the right to deploy on n-1.fake');
    expect(r.out).toBe('');
    expect(r.err).toBe('');
    expect(existsSync(ko)).toBe(false);
  });

  it('with -M: reported on the site prefixed, and no site started is the run error', async () => {
    handle = scripted('refuse');
    const r = await run(true);
    expect(r.err).toBe('[fake]    error: You do not have the right to deploy on n-1.fake [KAPLOY_RIGHTS]\n');
    expect((r.error as KaployError).code).toBe('KAPLOY_RIGHTS');
    expect((r.error as KaployError).message).toBe(
      'no site started a deployment (fake: You do not have the right to deploy on n-1.fake)',
    );
  });
});

describe('a deployment that fails as a whole after it started', () => {
  it('on one site: log, summary, -n file and -s, then the error with its own code', async () => {
    const ko = path.join(dir, 'ko-failed-one');
    const missing = path.join(dir, 'no-script.sh');
    handle = scripted('fail');
    const r = await run(false, { outputKo: ko, script: missing });
    expect(r.out).toBe(
      `Deployment #D-1 started\nDeployment #D-1 failed\n\nThe deployment failed on nodes\nn-1.fake (?-?: Checksum mismatch)\nRunning ${missing}\nFail !\n`,
    );
    expect(readFileSync(ko, 'utf8')).toBe('n-1.fake\n');
    expect((r.error as KaployError).code).toBe('KAPLOY_CHECKSUM');
  });

  it('with -M: the same log (prefixed), summary, -n file and -s; its nodes are KO, nothing thrown', async () => {
    const ko = path.join(dir, 'ko-failed-grid');
    const missing = path.join(dir, 'no-script.sh');
    handle = scripted('fail');
    const r = await run(true, { outputKo: ko, script: missing });
    expect(r.error).toBeUndefined();
    expect(r.out).toBe(
      `[fake]    Deployment #D-1 started\n[fake]    Deployment #D-1 failed\n\nThe deployment failed on nodes\nn-1.fake (?-?: Checksum mismatch)\nRunning ${missing}\nFail !\n`,
    );
    expect(r.err).toBe('[fake]    error: Checksum mismatch [KAPLOY_CHECKSUM]\n');
    expect(readFileSync(ko, 'utf8')).toBe('n-1.fake\n');
    expect(r.res?.outcomes.map((x) => x.status)).toEqual(['ko']);
  });
});

/** An engine that starts the deployment, answers one log page, then never answers again (hung). */
function hangsAfterStart(): Handler {
  let pages = 0;
  return (req, res) => {
    const p = req.url?.split('?')[0];
    if (req.method === 'POST' && p === '/deployment') return json(res, 200, { wid: 'D-1' });
    if (p === '/deployment/D-1/logs' && pages++ === 0)
      return json(res, 200, { lines: ['Deployment #D-1 started'], next: 1, done: false });
    // Silence: the client's deadline (server_timeout) is what ends the wait. Closed with the server.
    res.on('close', () => undefined);
  };
}

describe('an engine lost while deploying', () => {
  it('on one site: its nodes KO (Server-lost) in the summary and -n, the run ends as its outcomes say', async () => {
    const ko = path.join(dir, 'ko-lost-one');
    handle = hangsAfterStart();
    const out = capture();
    const err = capture();
    const client = new ApiClient({
      url,
      token: 'fake-engine-token-0123',
      serverName: 'fake',
      deadlineMs: 300,
    });
    const res = await runDeployment(
      {
        nodes: ['n-1.fake'],
        environment: { kind: 'recorded', name: 'tiny' },
        request: {},
        verbose: 3,
        wait: true,
        dryRun: false,
        outputKo: ko,
        pollIntervalMs: 50,
      },
      { out: out.s, err: err.s },
      new AbortController().signal,
      oneSite(client),
    );
    // Not thrown (which would exit 5, "nothing was started"): the outcomes say KO, so exit 2.
    expect(res.outcomes).toEqual([
      expect.objectContaining({ node: 'n-1.fake', status: 'ko', impl: 'Server', micro: 'lost' }),
    ]);
    expect(out.text()).toMatch(/The deployment failed on nodes\nn-1\.fake \(Server-lost: /);
    expect(readFileSync(ko, 'utf8')).toBe('n-1.fake\n');
    expect(err.text()).toMatch(
      /^error: .*\[KAPLOY_CLIENT\]; deployment D-1 was running: its nodes are counted KO \(kanodes3 -w D-1 once the server answers\)\n$/,
    );
  });
});

describe('on a terminal', () => {
  it('one site: the progress line of follow() on stderr, wiped before the log; the log carries no terminal control', async () => {
    handle = scripted('fail');
    const r = await run(false, { pollIntervalMs: 50 }, true);
    expect(r.out).not.toContain('\x1b');
    expect(r.out).toContain('Deployment #D-1 failed\n');
    expect(r.err).toMatch(/^\r\x1b\[K\r\x1b\[K\[0s\] 0 nodes: ok 0, ko 0\r\x1b\[K\r\x1b\[K$/);
  });

  it('with -M: one progress line over every site instead', async () => {
    handle = scripted('fail');
    const r = await run(true, { pollIntervalMs: 50 }, true);
    expect(r.out).not.toContain('\x1b');
    expect(r.err.startsWith('\r\x1b[K[0s] fake: starting')).toBe(true);
    // The line is wiped before the site's error line, which stays the last thing on stderr.
    expect(r.err.endsWith('\r\x1b[K[fake]    error: Checksum mismatch [KAPLOY_CHECKSUM]\n')).toBe(true);
  });
});

describe('--no-wait', () => {
  it('prints the workflow id (prefixed with -M) and follows nothing', async () => {
    handle = scripted('fail');
    const one = await run(false, { wait: false });
    expect(one.out).toBe('D-1\n');
    expect(one.res?.waited).toBe(false);
    expect(requests).toEqual(['POST /deployment']);
    const grid = await run(true, { wait: false });
    expect(grid.out).toBe('[fake]    D-1\n');
    expect(grid.res?.waited).toBe(false);
  });
});
