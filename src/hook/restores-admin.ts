import type { RestoreRow, RestoreState } from '../api/restores.js';
import { errorMessage, isKaployError, type KaployErrorCode } from '../common/errors.js';
import type { HooksConfig } from '../common/hooks-config.js';
import { type DeliveryReport, deliverSpool } from './deliver-spool.js';
import type { HookEngine } from './hook-engine.js';
import { listSpooled, type SpoolListing } from './spool.js';

export interface RestoresReport {
  /**
   * The engine's restores (unfinished ones unless `all`), or why they could not be read: `code`
   * tells an engine that did not answer (KAPLOY_CLIENT, KAPLOY_AUTH) from one that refused.
   */
  engine: { rows: RestoreRow[] } | { error: string; code: KaployErrorCode };
  /** Requests still on this host, not yet acknowledged by the engine. */
  spool: SpoolListing;
  delivery?: DeliveryReport;
  retried?: number;
}

const UNFINISHED: RestoreState[] = ['pending', 'running', 'failed'];

/**
 * `kaploy oar restores`: what is pending or failed, in the engine and in the local spool, in the
 * spirit of OAR's phoenix. `deliver` hands the spool over now (ignoring the backoff); `retry`
 * also sets the engine's failed restores (of `job`, or all) pending again.
 */
export async function adminRestores(opts: {
  config: HooksConfig;
  engine: HookEngine;
  signal: AbortSignal;
  now: () => number;
  deliver?: boolean;
  retry?: boolean;
  job?: number;
  state?: RestoreState;
  all?: boolean;
}): Promise<RestoresReport> {
  const report: Partial<RestoresReport> = {};
  if (opts.deliver || opts.retry) {
    report.delivery = await deliverSpool(opts.config.spoolDir, opts.engine, {
      signal: opts.signal,
      now: opts.now,
      force: true,
      ...(opts.job !== undefined ? { onlyJob: opts.job } : {}),
    });
  }
  try {
    if (opts.retry)
      report.retried = await opts.engine.retryRestores(
        opts.job !== undefined ? { job: opts.job } : {},
        opts.signal,
      );
    const filter = opts.job !== undefined ? { job: opts.job } : {};
    let rows: RestoreRow[];
    if (opts.state) rows = await opts.engine.listRestores({ ...filter, state: opts.state }, opts.signal);
    else {
      rows = await opts.engine.listRestores(filter, opts.signal);
      if (!opts.all) rows = rows.filter((r) => UNFINISHED.includes(r.state));
    }
    report.engine = { rows };
  } catch (e) {
    if (opts.signal.aborted) throw e;
    report.engine = { error: errorMessage(e), code: isKaployError(e) ? e.code : 'KAPLOY_INTERNAL' };
  }
  report.spool = listSpooled(opts.config.spoolDir);
  return report as RestoresReport;
}

/** Plain-text rendering, one line per row (the CLI prints it). */
export function formatRestoresReport(
  r: RestoresReport,
  fmtTime: (ms: number) => string = (ms) => new Date(ms).toISOString(),
): string {
  const out: string[] = [];
  if (r.delivery) {
    const d = r.delivery;
    out.push(
      `spool delivery: ${d.delivered.length} delivered, ${d.failed.length} failed, ${d.rejected.length} refused, ${d.deferred.length} deferred`,
    );
    for (const f of [...d.failed, ...d.rejected]) out.push(`  job ${f.job}: ${f.error}`);
  }
  if (r.retried !== undefined) out.push(`${r.retried} failed restores set pending again`);
  if ('error' in r.engine) out.push(`engine: cannot list restores: ${r.engine.error}`);
  else if (r.engine.rows.length === 0) out.push('engine: no restore to show');
  else {
    out.push('JOB\tNODE\tUSER\tSTATE\tATTEMPTS\tUPDATED\tREASON');
    for (const x of r.engine.rows)
      out.push([x.job, x.node, x.user, x.state, x.attempts, fmtTime(x.updated), x.reason || '-'].join('\t'));
  }
  for (const e of r.spool.pending) {
    out.push(
      `spool: job ${e.request.job}: ${e.request.nodes.length} nodes of ${e.request.user} not yet delivered (since ${fmtTime(e.created)}, ${e.attempts} failed attempts${e.lastError ? `, last: ${e.lastError}` : ''})`,
    );
  }
  for (const e of r.spool.rejected)
    out.push(
      `spool: job ${e.request.job}: REFUSED by the engine: ${e.lastError} (nodes stay Absent; fix and re-submit)`,
    );
  for (const u of r.spool.unreadable) out.push(`spool: unreadable ${u.file}: ${u.error}`);
  return `${out.join('\n')}\n`;
}
