import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { isKaployError, KaployError } from '../../src/common/errors.js';
import { recordStats } from '../../src/stats/record-stats.js';
import { statsRoutes } from '../../src/stats/routes-stats.js';
import { STATS_CSV_PLAIN_SQL, STATS_SCHEMA_SQL, type StatsRow } from '../../src/stats/schema.js';

export const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

/** A real SQLite file in a temp dir, in WAL mode like the engine's store. */
export function tempDb(): { db: Database.Database; file: string; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-stats-'));
  const file = path.join(dir, 'kaploy.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(STATS_SCHEMA_SQL + STATS_CSV_PLAIN_SQL);
  return {
    db,
    file,
    dir,
    cleanup: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function row(over: Partial<StatsRow> = {}): StatsRow {
  return {
    wid: 'D-1',
    operation: 'deploy',
    user: 'gsimo',
    hostname: 'gdx-121.orsay.grid5000.fr',
    step1: 'SetDeploymentEnvUntrusted',
    step2: 'BroadcastEnvKastafior',
    step3: 'BootNewEnvClassical',
    timeout_step1: 550,
    timeout_step2: 600,
    timeout_step3: 400,
    retry_step1: 0,
    retry_step2: 0,
    retry_step3: 0,
    start: 1302763272,
    step1_duration: 107,
    step2_duration: 50,
    step3_duration: 0,
    env: 'squeeze-x64-base:5',
    anonymous_env: false,
    md5: MD5,
    success: true,
    error: '',
    ...over,
  };
}

/**
 * Known operations: the tutorial's deployment, a KO with a comma and a newline in its error,
 * retries, a timeout, an anonymous environment, reboots and a power operation.
 */
export function seedKnownOperations(db: Database.Database): void {
  // D-1: the tutorial's deployment (2 nodes), one KO whose error has a comma, a quote and a newline.
  recordStats(db, [
    row(),
    row({
      hostname: 'gdx-122.orsay.grid5000.fr',
      step3_duration: 400,
      success: false,
      error: 'BootNewEnvClassical-wait_reboot: timeout, node unreachable\nlast "ping" failed',
    }),
  ]);
  // D-2: retries on step 1 and 3, then success; a timeout KO with no retry.
  recordStats(db, [
    row({ wid: 'D-2', start: 1302766872, retry_step1: 2, retry_step3: 1, step1_duration: 310 }),
    row({
      wid: 'D-2',
      hostname: 'gdx-122.orsay.grid5000.fr',
      start: 1302766872,
      retry_step1: 1,
      step2_duration: 600,
      success: false,
      error: 'BroadcastEnvKastafior: timeout (600 s)',
    }),
  ]);
  // a reboot (step1 only, no environment).
  recordStats(db, [
    row({
      wid: 'R-1',
      operation: 'reboot',
      hostname: 'gdx-121.orsay.grid5000.fr',
      step1: 'Simple',
      step2: '',
      step3: '',
      timeout_step1: 200,
      timeout_step2: 0,
      timeout_step3: 0,
      start: 1302770000,
      step1_duration: 90,
      step2_duration: 0,
      env: '',
      md5: '',
    }),
  ]);
  // D-3: an anonymous environment by another user; the error looks like a spreadsheet formula.
  recordStats(db, [
    row({
      wid: 'D-3',
      user: 'alice',
      hostname: 'gdx-5.orsay.grid5000.fr',
      start: 1302773472,
      env: 'my-env:1',
      anonymous_env: true,
      success: false,
      md5: '',
      error: '=HYPERLINK("http://x","y")',
    }),
  ]);
  // P-1: power off.
  recordStats(db, [
    row({
      wid: 'P-1',
      operation: 'power',
      hostname: 'gdx-5.orsay.grid5000.fr',
      step1: 'Off',
      step2: '',
      step3: '',
      timeout_step1: 0,
      timeout_step2: 0,
      timeout_step3: 0,
      start: 1302774000,
      step1_duration: 3,
      step2_duration: 0,
      env: '',
      md5: '',
    }),
  ]);
}

/** The default (-d) lines of the deployments above, in start order. */
export const D1_OK =
  'gsimo,gdx-121.orsay.grid5000.fr,SetDeploymentEnvUntrusted,BroadcastEnvKastafior,BootNewEnvClassical,550,600,400,0,0,0,1302763272,107,50,0,squeeze-x64-base:5,false,d41d8cd98f00b204e9800998ecf8427e,true,';
export const D1_KO =
  'gsimo,gdx-122.orsay.grid5000.fr,SetDeploymentEnvUntrusted,BroadcastEnvKastafior,BootNewEnvClassical,550,600,400,0,0,0,1302763272,107,50,400,squeeze-x64-base:5,false,d41d8cd98f00b204e9800998ecf8427e,false,"BootNewEnvClassical-wait_reboot: timeout, node unreachable\nlast ""ping"" failed"';
export const D2_OK =
  'gsimo,gdx-121.orsay.grid5000.fr,SetDeploymentEnvUntrusted,BroadcastEnvKastafior,BootNewEnvClassical,550,600,400,2,0,1,1302766872,310,50,0,squeeze-x64-base:5,false,d41d8cd98f00b204e9800998ecf8427e,true,';
export const D2_KO =
  'gsimo,gdx-122.orsay.grid5000.fr,SetDeploymentEnvUntrusted,BroadcastEnvKastafior,BootNewEnvClassical,550,600,400,1,0,0,1302766872,107,600,0,squeeze-x64-base:5,false,d41d8cd98f00b204e9800998ecf8427e,false,BroadcastEnvKastafior: timeout (600 s)';
export const R1 = 'gsimo,gdx-121.orsay.grid5000.fr,Simple,,,200,0,0,0,0,0,1302770000,90,0,0,,false,,true,';
export const D3 =
  'alice,gdx-5.orsay.grid5000.fr,SetDeploymentEnvUntrusted,BroadcastEnvKastafior,BootNewEnvClassical,550,600,400,0,0,0,1302773472,107,50,0,my-env:1,true,,false,"\'=HYPERLINK(""http://x"",""y"")"';
export const P1 = 'gsimo,gdx-5.orsay.grid5000.fr,Off,,,0,0,0,0,0,0,1302774000,3,0,0,,false,,true,';

export const lines = (...ls: string[]) => ls.map((l) => `${l}\n`).join('');

/**
 * A fastify app carrying only the stats routes, with the engine's conventions: Bearer auth hook
 * setting request.user, errors as `{error: {code, appCode, message, fields}}`.
 */
export async function statsApp(
  db: Database.Database,
  site = 'orsay',
  token = 'secret',
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.decorateRequest('user', undefined as never);
  app.addHook('onRequest', async (request) => {
    if (request.headers.authorization !== `Bearer ${token}`)
      throw new KaployError('KAPLOY_AUTH', 'authentication failed');
    (request as unknown as { user: unknown }).user = { name: 'gsimo', admin: false };
  });
  app.setErrorHandler((e, _request, reply) => {
    if (isKaployError(e)) {
      const status =
        e.code === 'KAPLOY_AUTH'
          ? 401
          : e.code === 'KAPLOY_INTERNAL' || e.code === 'KAPLOY_DATABASE'
            ? 500
            : 400;
      return reply.code(status).send({ error: e.toJSON() });
    }
    return reply
      .code(500)
      .send({ error: { code: 'KAPLOY_INTERNAL', appCode: 199, message: (e as Error).message, fields: {} } });
  });
  await app.register(statsRoutes, { ctx: { config: { site }, store: { db } } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

export function appUrl(app: FastifyInstance): string {
  const a = app.server.address();
  if (a === null || typeof a === 'string') throw new Error('no address');
  return `http://127.0.0.1:${a.port}`;
}

/**
 * Texts a stats field may hold that need quoting or formula neutralisation (or look as if they
 * did): the CSV encoders' tests write each of them and compare byte for byte.
 */
export const HOSTILE_TEXTS: readonly string[] = [
  '',
  'plain',
  'a,b',
  'say "hi"',
  '"',
  '""',
  ',',
  '\n',
  '\r',
  '\r\n',
  'two\nlines',
  'cr\rhere',
  '=1+1',
  '+cmd',
  '-1.5',
  '-x',
  '@A1',
  '\tx',
  '\r=1',
  "'quoted'",
  ' lead',
  'trail ',
  'é ü 漢字 🙂',
  '=HYPERLINK("http://x","y"),z',
  'a\u0000b',
  '-',
  '=',
  'crlf\r\n',
  '-bash: no such file',
  '@SUM(A1)',
  '=HYPERLINK("x","y"),z',
  '1e5',
];
