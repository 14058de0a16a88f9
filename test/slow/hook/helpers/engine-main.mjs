// The real engine with the OAR restore routes, as its own process, for the real-OAR tests:
//   node engine-main.mjs SITE_YAML PORT
// prints "listening URL" once it accepts requests; SIGTERM closes it cleanly. Until the lead adds
// restoreRoutes to ROUTE_PLUGINS it is added here; no restore worker runs (restores stay pending:
// the deployment service that performs them is not wired yet).

import { silentLogger } from '../../../../dist/common/logger.js';
import { loadSiteConfig } from '../../../../dist/common/site-config.js';
import { restoreRoutes } from '../../../../dist/engine/oar-restore/routes-restores.js';
import { ROUTE_PLUGINS } from '../../../../dist/engine/server/app.js';
import { startServer } from '../../../../dist/engine/server/start.js';

const [file, port] = process.argv.slice(2);
const config = loadSiteConfig(file);
const opts = { port: Number(port), host: '127.0.0.1', logger: silentLogger };
let running;
try {
  running = await startServer(config, { ...opts, plugins: [...ROUTE_PLUGINS, restoreRoutes] });
} catch (e) {
  // Already wired by the engine (a duplicate route): use the engine's own list.
  if (!/already declared|duplicate/i.test(String(e?.message))) throw e;
  running = await startServer(config, { ...opts, plugins: ROUTE_PLUGINS });
}
process.stdout.write(`listening ${running.url}\n`);
process.on('SIGTERM', () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
