import type { DeleteOutcome } from './grid-delete.js';
import { formatWalltime } from './grid-options.js';
import type { SiteJobStatus } from './grid-status.js';
import type { GridRecord } from './grid-store.js';
import type { SubmitResult } from './grid-submit.js';

/**
 * What the three programs print. oargridsub's lines are oargrid's own, which scripts parse
 * (the tutorial: `grep "Grid reservation id" | cut -d"=" -f2`): results on stdout, failures on
 * stderr, so that `> ~/oargrid.out` keeps only what a script reads.
 */
export function submitLines(r: SubmitResult): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  for (const s of r.sites) {
    for (const alias of s.aliases) {
      if (s.kind === 'reserved') {
        if (s.skewS !== 0) out.push(`[OAR_GRIDSUB] [${alias}] Date/TZ adjustment: ${s.skewS} seconds`);
        out.push(`[OAR_GRIDSUB] [${alias}] Reservation success on ${alias} : batchId = ${s.jobId}`);
        if (s.ownKey !== undefined) {
          out.push(
            `[OAR_GRIDSUB] [${alias}] SSH KEY : ${s.ownKey} (its OAR holds the grid key in another job)`,
          );
        }
      } else {
        err.push(`[OAR_GRIDSUB] [${alias}] Reservation failed on ${alias} (site ${s.site}) : ${s.reason}`);
      }
    }
  }
  for (const d of r.rollback) {
    if (d.jobId === undefined) {
      // A site whose oarsub went unanswered, looked up by its job's name.
      err.push(
        d.deleted
          ? `[OAR_GRIDSUB] [${d.site}] no job named oargrid-${r.gridId} on the site: nothing left reserved there`
          : `[OAR_GRIDSUB] [${d.site}] ${d.reason}`,
      );
      continue;
    }
    err.push(
      d.deleted
        ? `[OAR_GRIDSUB] [${d.site}] job ${d.jobId} deleted (grid reservation abandoned)`
        : `[OAR_GRIDSUB] [${d.site}] job ${d.jobId} could NOT be deleted: ${d.reason}`,
    );
  }
  if (r.state === 'reserved') {
    out.push(`[OAR_GRIDSUB] Grid reservation id = ${r.gridId}`);
    out.push(`[OAR_GRIDSUB] SSH KEY : ${r.keyFile}`);
    out.push('\tYou can use this key to connect directly to your OAR nodes with the oar user.');
  } else if (r.rollback.some((d) => !d.deleted)) {
    err.push(
      `[OAR_GRIDSUB] Grid reservation ${r.gridId} is kept: some of its jobs may still exist; see oargridstat ${r.gridId}, retry oargriddel ${r.gridId}`,
    );
  }
  return { out, err };
}

const date = (ms: number) => {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};

const STATE_WORDS: Record<SiteJobStatus['state'], string> = {
  submitting: 'being submitted (or the submission was killed)',
  reserved: 'reserved',
  refused: 'refused',
  unknown: 'submission unanswered',
  deleted: 'deleted by oargriddel',
  'delete-failed': 'deletion failed',
};

/** oargridstat ID: the grid, then one line per alias with its site job and both states. */
export function statusLines(grid: GridRecord, sites: SiteJobStatus[]): string[] {
  const lines = [
    `Reservation # ${grid.id}:`,
    `\tsubmission date : ${date(grid.submittedAt)}`,
    `\tstart date : ${date(grid.startAt)}`,
    `\twalltime : ${formatWalltime(grid.walltimeS)}`,
    `\ttypes : ${grid.types.join(',')}`,
    `\tdescription : ${grid.description}`,
    `\tstate : ${grid.state}`,
    `\tSSH KEY : ${grid.keyFile}`,
    '\tresources:',
  ];
  for (const s of sites) {
    const oar = s.oarState ?? (s.problem ? `? (${s.problem})` : '-');
    const job = s.batchId === undefined ? 'no job' : `batchId = ${s.batchId}`;
    const note = s.message ? ` : ${s.message}` : '';
    for (const alias of s.aliases) {
      lines.push(`\t\t${alias} --> site ${s.site}, ${job}, state = ${oar} (${STATE_WORDS[s.state]})${note}`);
    }
  }
  return lines;
}

export function deleteLines(id: number, outcomes: DeleteOutcome[]): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  for (const o of outcomes) {
    const who = `[OAR_GRIDDEL] [${o.aliases.join(',')}]`;
    if (o.jobId === undefined) {
      // A site whose oarsub went unanswered, looked up by the job's name.
      if (o.deleted) out.push(`${who} no job named oargrid-${id} on ${o.site}: nothing reserved there`);
      else err.push(`${who} ${o.site}: ${o.reason}`);
      continue;
    }
    if (o.deleted) out.push(`${who} job ${o.jobId} on ${o.site} deleted`);
    else
      err.push(
        `[OAR_GRIDDEL] [${o.aliases.join(',')}] job ${o.jobId} on ${o.site} could NOT be deleted: ${o.reason}`,
      );
  }
  if (outcomes.length === 0) out.push(`[OAR_GRIDDEL] grid reservation ${id} holds no job`);
  return { out, err };
}
