import type { OperationStatus } from '../../api/operation-status.js';
import type { Io } from './follow.js';

/** Where each site of a run writes, and who hears of its progress. */
export interface SiteOutputs {
  /** The streams one site writes to; `close` flushes them once the site has settled. */
  open(site: string): Io & { close(): Promise<void> };
  /** Receives the site's status while it deploys, for a progress display over every site. */
  onStatus(site: string): ((st: OperationStatus) => void) | undefined;
  start(): void;
  stop(): void;
}

/**
 * Without -M the one site writes straight to the command's streams; follow() draws its own
 * progress line when stderr is a terminal.
 */
export function directOutputs(io: Io): SiteOutputs {
  return {
    open: () => ({ ...io, close: async () => {} }),
    onStatus: () => undefined,
    start: () => {},
    stop: () => {},
  };
}
