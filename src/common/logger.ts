import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Library code logs through pino child loggers bound to {workflow, node, step}; never console.log.
 * Level comes from KAPLOY_LOG_LEVEL (default 'info' for servers, 'silent' in tests).
 */
export function createLogger(
  name: string,
  opts: { level?: string; destination?: number | string } = {},
): Logger {
  const level = opts.level ?? process.env.KAPLOY_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');
  const dest = opts.destination ?? 2;
  return pino({ name, level }, pino.destination({ dest, sync: false }));
}

export const silentLogger: Logger = pino({ level: 'silent' });
