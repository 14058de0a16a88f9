import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { silentLogger } from '../../src/common/logger.js';
import { routePlugins } from '../../src/engine/main.js';
import { createRestoreRoutes } from '../../src/engine/oar-restore/routes-restores.js';
import { createEngineServices } from '../../src/engine/operations/engine-services.js';
import { type RunningServer, startServer } from '../../src/engine/server/start.js';
import { makeSite, type TestSite, writeFile } from '../engine/helpers/site.js';

/**
 * The README's "Exit codes" table as a contract: every program that talks to a server, run as
 * users run it (dist/cli/*.js) against a real engine, exits with exactly 3 for a bad command line,
 * 4 when the server refuses, 5 when the server is unreachable (a closed local port) or the token
 * is not accepted, and 130 when Ctrl-C interrupts an operation it waits for.
 */
const DIST_CLI = path.resolve(import.meta.dirname, '..', '..', 'dist', 'cli');
const N1 = 'node-1.testsite';
// Hardware commands that outlast any test: the operations wait on them until cancelled.
const HANG = { argv: ['sleep', '300'] };

let site: TestSite;
let server: RunningServer;
let closedPort: number;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Spawns a built program; `interrupt` sends SIGINT once it resolves (the program is waiting). */
function runProgram(
  args: string[],
  env: NodeJS.ProcessEnv,
  interrupt?: () => Promise<void>,
): Promise<Result> {
  const [prog, ...rest] = args as [string, ...string[]];
  const p = spawn(process.execPath, [path.join(DIST_CLI, `${prog}.js`), ...rest], {
    env: { ...env, KAPLOY_LOG_LEVEL: 'silent' },
    cwd: site.dir,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => {
    stdout += d;
  });
  p.stderr.on('data', (d) => {
    stderr += d;
  });
  p.stdin.end();
  const done = new Promise<Result>((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : -2), stdout, stderr }));
  });
  if (interrupt) {
    let ended = false;
    void done.then(() => {
      ended = true;
    });
    void interrupt().then(() => {
      if (!ended) p.kill('SIGINT');
    });
  }
  return done;
}

/** A client configuration naming one server: `url` with `tokenFile`. */
function clientEnv(name: string, url: string, tokenFile: string): NodeJS.ProcessEnv {
  const f = path.join(site.dir, `client-${name}.yaml`);
  writeFileSync(f, stringify({ default: 'test', servers: { test: { url, token_file: tokenFile } } }));
  const env: NodeJS.ProcessEnv = { ...process.env, KAPLOY_CLIENT_CONFIG: f };
  delete env.KAPLOY_TOKEN_FILE;
  delete env.KAPLOY_TOKEN_DIR;
  return env;
}

/** An OAR hooks configuration for `kaploy oar restores`. */
function hooksConfig(name: string, url: string, tokenFile: string): string {
  return writeFile(
    site.dir,
    `hooks-${name}.yaml`,
    stringify({
      engine_url: url,
      admin_token_file: tokenFile,
      spool_dir: path.join(site.dir, `spool-${name}`),
    }),
  );
}

beforeAll(async () => {
  site = makeSite({
    users: ['alice', 'bob'],
    nodes: 2,
    commands: {
      reboot: { soft: HANG },
      power_on: { soft: HANG },
      power_off: { soft: HANG },
    },
  });
  server = await startServer(site.config, {
    port: 0,
    host: '127.0.0.1',
    logger: silentLogger,
    plugins: (ctx) => [...routePlugins(createEngineServices(ctx)), createRestoreRoutes()],
  });
  // alice may use node-1; bob has no right anywhere.
  server.ctx.store.rights.add([{ user: 'alice', node: N1, partition: '*' }]);
  writeFile(site.imageDir, 'exit.tgz', 'image bytes\n');
  const desc = writeFile(
    site.dir,
    'exit.env',
    `name : exit-env\ntarball : server://${site.imageDir}/exit.tgz|tgz\nkernel : /vmlinuz\nfdisktype : 83\nfilesystem : ext4\n`,
  );
  const added = await runProgram(['kaenv3', '-a', desc], site.envFor('alice', server.url));
  expect(added.stderr).toBe('');
  expect(added.code).toBe(0);
  // A port nothing listens on: bound, then released.
  closedPort = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  writeFile(site.dir, 'tokens/forged', `${'f'.repeat(43)}\n`, 0o600);
});

afterAll(async () => {
  await server?.close();
  site?.cleanup();
});

/** One row per program: a bad command line, a request the server refuses, one that asks it something. */
interface Row {
  usage: string[];
  /** As bob, who has no rights, and the server's reason; null where the client checks all the server would. */
  refused: { args: string[]; why: string } | null;
  asks: string[];
}

const ROWS: Record<string, Row> = {
  kadeploy3: {
    usage: ['kadeploy3', '-m', N1],
    refused: { args: ['kadeploy3', '-m', N1, '-e', 'exit-env', '-u', 'alice'], why: '[KAPLOY_RIGHTS]' },
    asks: ['kadeploy3', '-m', N1, '-e', 'exit-env', '-u', 'alice'],
  },
  kaenv3: {
    usage: ['kaenv3', '--no-such-option'],
    refused: { args: ['kaenv3', '-p', 'no-such-env'], why: '[KAPLOY_ENVIRONMENT]' },
    asks: ['kaenv3', '-l'],
  },
  kastat3: {
    usage: ['kastat3', '-x', 'yesterday'],
    // Any user reads the statistics, and the client checks the query as the server does.
    refused: null,
    asks: ['kastat3', '-d'],
  },
  kareboot3: {
    usage: ['kareboot3', '-m', N1, '-r', 'sideways'],
    refused: { args: ['kareboot3', '-m', N1], why: '[KAPLOY_RIGHTS]' },
    asks: ['kareboot3', '-m', N1],
  },
  kapower3: {
    usage: ['kapower3', '-m', N1],
    refused: { args: ['kapower3', '--on', '-m', N1], why: '[KAPLOY_RIGHTS]' },
    asks: ['kapower3', '--status', '-m', N1],
  },
  kaconsole3: {
    usage: ['kaconsole3', '-m', N1, '-m', 'node-2.testsite'],
    refused: { args: ['kaconsole3', '-m', N1], why: '[KAPLOY_RIGHTS]' },
    asks: ['kaconsole3', '-m', N1],
  },
  kanodes3: {
    usage: ['kanodes3', '-w', 'not-a-workflow-id'],
    refused: {
      args: ['kanodes3', '-w', 'D-00000000-0000-4000-8000-000000000000'],
      why: '[KAPLOY_INVALID_WORKFLOW_ID]',
    },
    asks: ['kanodes3'],
  },
  karights3: {
    usage: ['karights3', '-a', '-u', 'bob'],
    refused: { args: ['karights3', '-a', '-u', 'bob', '-m', N1, '-p', '*'], why: '[KAPLOY_RIGHTS]' },
    asks: ['karights3', '-l', '-u', 'alice'],
  },
};

describe('exit codes of the programs (README "Exit codes")', () => {
  describe.each(Object.entries(ROWS))('%s', (_prog, row) => {
    it('3: bad command line', async () => {
      const r = await runProgram(row.usage, site.envFor('alice', server.url));
      expect([r.code, r.stdout]).toEqual([3, '']);
      expect(r.stderr).not.toBe('');
    });
    const refused = row.refused;
    if (refused) {
      it('4: refused by the server', async () => {
        const r = await runProgram(refused.args, site.envFor('bob', server.url));
        expect(r.code, r.stderr).toBe(4);
        expect(r.stderr).toContain(refused.why);
      });
    }
    it('5: server unreachable', async () => {
      const env = clientEnv('down', `http://127.0.0.1:${closedPort}`, site.tokenFile('alice'));
      const r = await runProgram(row.asks, env);
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toContain(`cannot reach the kaploy server test at http://127.0.0.1:${closedPort}`);
    });
    it('5: authentication failed', async () => {
      const r = await runProgram(row.asks, clientEnv('forged', server.url, site.tokenFile('forged')));
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).toContain('KAPLOY_AUTH');
    });
  });

  describe('kaploy oar restores', () => {
    const restores = (config: string, ...more: string[]) =>
      runProgram(['kaploy', 'oar', 'restores', '-c', config, ...more], process.env);
    it('3: bad command line', async () => {
      const r = await restores(hooksConfig('admin', server.url, site.tokenFile('admin')), '--state', 'lost');
      expect(r.code, r.stderr).toBe(3);
    });
    it('4: refused by the server (not an administrator)', async () => {
      const r = await restores(hooksConfig('bob', server.url, site.tokenFile('bob')));
      expect(r.code, r.stdout).toBe(4);
      expect(r.stdout).toContain('only site administrators can read or request OAR restores');
    });
    it('5: server unreachable', async () => {
      const r = await restores(
        hooksConfig('down', `http://127.0.0.1:${closedPort}`, site.tokenFile('admin')),
      );
      expect(r.code, r.stdout).toBe(5);
      expect(r.stdout).toContain('cannot reach the kaploy server');
    });
    it('5: authentication failed', async () => {
      const r = await restores(hooksConfig('forged', server.url, site.tokenFile('forged')));
      expect(r.code, r.stdout).toBe(5);
    });
  });

  describe('130: Ctrl-C while the program waits for its operation', () => {
    it.each([
      ['kadeploy3', ['-m', N1, '-e', 'exit-env', '-u', 'alice']],
      ['kareboot3', ['-m', N1]],
      ['kapower3', ['--off', '-m', N1]],
    ])('%s', async (prog, args) => {
      const wid = path.join(site.dir, `${prog}.wid`);
      // The workflow id is written once the server accepted the operation: from then on it waits.
      const started = async () => {
        for (let i = 0; i < 600 && !existsSync(wid); i++) await sleep(50);
      };
      const r = await runProgram(
        [prog, ...args, '--write-workflow-id', wid, '--poll-interval', '100'],
        site.envFor('alice', server.url),
        started,
      );
      expect(existsSync(wid), r.stderr).toBe(true);
      expect(r.code, r.stderr).toBe(130);
      // Cancelled on the server too: the operation ends as cancelled, its hardware command killed.
      const w = readFileSync(wid, 'utf8').trim();
      const status = () => server.ctx.store.workflows.get(w)?.status;
      for (let i = 0; i < 200 && status() === 'running'; i++) await sleep(50);
      expect(status()).toBe('cancelled');
    });
  });
});
