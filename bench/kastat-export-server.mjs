// Child of kastat-export.mjs: an engine-like HTTP server (fastify + the stats routes, Bearer auth)
// over FILE; prints its port; on SIGTERM prints its peak RSS and exits.
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { statsRoutes } from '../dist/stats/routes-stats.js';

const db = new Database(process.argv[2]);
db.pragma('journal_mode = WAL');
const app = Fastify({ logger: false });
app.addHook('onRequest', async (request, reply) => {
  if (request.headers.authorization !== 'Bearer bench-token-0123456789')
    return reply.code(401).send({ error: { code: 'KAPLOY_AUTH' } });
});
await app.register(statsRoutes, { ctx: { config: { site: 'bench' }, store: { db } } });
await app.listen({ port: 0, host: '127.0.0.1' });
// CPU spent starting (modules, fastify): left out of the per-export figure.
const readyCpu = process.cpuUsage();
const readyMs = Math.round((readyCpu.user + readyCpu.system) / 1000);
process.stdout.write(`listening on ${app.server.address().port}\n`);
process.on('SIGTERM', async () => {
  await app.close();
  db.close();
  // maxRSS is in KiB: the server's peak over every export it served; CPU in ms since it started.
  const cpu = process.cpuUsage();
  const ms = Math.round((cpu.user + cpu.system) / 1000);
  process.stdout.write(`maxRSS ${process.resourceUsage().maxRSS} cpu ${ms} ready ${readyMs}\n`, () =>
    process.exit(0),
  );
});
