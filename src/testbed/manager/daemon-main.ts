import { createLogger } from '../../common/logger.js';
import { runTestbedDaemon } from './daemon.js';

/**
 * Entry of the detached daemon process started by `kaploy testbed up`: `node daemon-main.js DIR`.
 * Logs go to stdout, which `up` points at DIR/testbed.log.
 */
const dir = process.argv[2];
const logger = createLogger('kaploy-testbed', { destination: 1 });
if (!dir) {
  process.stderr.write('usage: daemon-main.js DIR\n');
  process.exitCode = 3;
} else {
  const ac = new AbortController();
  const stop = () => ac.abort(new Error('signalled'));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await runTestbedDaemon(dir, { signal: ac.signal, logger });
    logger.info('virtual site stopped');
  } catch (e) {
    logger.fatal({ err: e }, 'virtual site failed');
    process.exitCode = 1;
  }
  logger.flush();
  // Every server is closed; should a stray handle keep the event loop alive, still exit, so
  // `testbed down` never has to escalate to signals.
  setTimeout(() => process.exit(), 2000).unref();
}
