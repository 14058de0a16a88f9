import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/client/http-client.js';
import { storePath } from '../../src/engine/store/store.js';
import { type EngineProcess, spawnEngine } from './helpers/engine-process.js';
import { makeSite, type TestSite, writeFile } from './helpers/site.js';

let site: TestSite;
let engine: EngineProcess | undefined;

beforeAll(() => {
  site = makeSite({ users: [], nodes: 4 });
  writeFile(site.imageDir, 'img.tgz', 'image\n');
});

afterAll(async () => {
  if (engine && engine.proc.exitCode === null) {
    engine.proc.kill('SIGKILL');
    await engine.exited;
  }
  site?.cleanup();
});

const envText = (name: string) =>
  `name: ${name}\nos: linux\nimage: {file: "server://${site.imageDir}/img.tgz", kind: tar, compression: gzip}\nboot: {kernel: /vmlinuz}\nfilesystem: ext4\n`;

interface Acked {
  envs: string[];
  rights: string[];
}

/**
 * Writers hammer the engine (environment adds and rights grants from several clients at once);
 * every answer received is an acknowledged change that must survive the kill.
 */
async function hammer(
  client: ApiClient,
  writer: number,
  round: number,
  acked: Acked,
  stop: AbortSignal,
): Promise<void> {
  for (let i = 0; !stop.aborted; i++) {
    const tag = `r${round}-w${writer}-${i}`;
    try {
      if (i % 2 === 0) {
        await client.request('POST', '/environments', {
          body: { description: envText(`env-${tag}`), file: `${tag}.yaml` },
          signal: stop,
        });
        acked.envs.push(`env-${tag}`);
      } else {
        const user = `u-${tag}`;
        await client.request('POST', '/rights', {
          body: { user, nodes: [`node-${(i % 4) + 1}.testsite`], partitions: ['/dev/sda3'] },
          signal: stop,
        });
        acked.rights.push(user);
      }
    } catch {
      return; // the engine died under us: whatever was not answered was not acknowledged
    }
  }
}

describe('crash consistency', () => {
  it('an engine killed with SIGKILL during writes restarts with every acknowledged change', async () => {
    const acked: Acked = { envs: [], rights: [] };
    for (let round = 0; round < 2; round++) {
      engine = await spawnEngine(site.configFile);
      const clients = [0, 1, 2].map(() => site.client('admin', (engine as EngineProcess).url));
      const stop = new AbortController();
      const killAfter = 15 + Math.floor(Math.random() * 30);
      const writers = clients.map((c, w) => hammer(c, w, round, acked, stop.signal));
      // Kill at a random moment while requests are in flight.
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (acked.envs.length + acked.rights.length >= killAfter * (round + 1)) {
            clearInterval(t);
            resolve();
          }
        }, 5);
      });
      engine.proc.kill('SIGKILL');
      await engine.exited;
      await Promise.all(writers);
      stop.abort();
      await Promise.all(clients.map((c) => c.close()));

      const db = new Database(storePath(site.config.dataDir));
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const envs = new Set(
        (db.prepare('SELECT name FROM environments').all() as { name: string }[]).map((r) => r.name),
      );
      const users = new Set(
        (db.prepare('SELECT user FROM rights').all() as { user: string }[]).map((r) => r.user),
      );
      db.close();
      expect(acked.envs.filter((e) => !envs.has(e))).toEqual([]);
      expect(acked.rights.filter((u) => !users.has(u))).toEqual([]);
    }

    // And the restarted engine serves them.
    engine = await spawnEngine(site.configFile);
    const client = site.client('admin', engine.url);
    const listed = (
      await client.request<{ name: string }[]>('GET', '/environments', { query: { user: 'admin' } })
    ).map((e) => e.name);
    expect(listed).toEqual(expect.arrayContaining(acked.envs));
    const rights = (await client.request<{ user: string }[]>('GET', '/rights')).map((r) => r.user);
    expect(rights).toEqual(expect.arrayContaining(acked.rights));
    await client.close();
    engine.proc.kill('SIGTERM');
    expect(await engine.exited).toBe(0);
    expect(acked.envs.length + acked.rights.length).toBeGreaterThanOrEqual(30);
  });
});
