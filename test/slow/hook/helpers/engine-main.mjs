// The real engine with the OAR restore routes, as its own process, for the real-OAR tests:
//   node engine-main.mjs SITE_YAML PORT
// prints "listening URL" once it accepts requests; SIGTERM closes it cleanly. The engine is
// assembled as `kaploy server` assembles it (dist/engine/main.js), with the /restores routes but
// no restore worker: the tests read the restore requests the hooks delivered, still pending (the
// real OAR's nodes cannot be redeployed).

import { silentLogger } from '../../../../dist/common/logger.js';
import { loadSiteConfig } from '../../../../dist/common/site-config.js';
import { startEngine } from '../../../../dist/engine/main.js';

const [file, port] = process.argv.slice(2);
const config = loadSiteConfig(file);
const running = await startEngine(config, {
  port: Number(port),
  host: '127.0.0.1',
  logger: silentLogger,
  restores: 'routes',
});
process.stdout.write(`listening ${running.url}\n`);
process.on('SIGTERM', () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
