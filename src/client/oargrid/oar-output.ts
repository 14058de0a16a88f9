import { KaployError } from '../../common/errors.js';
import { type CommandResult, describeFailure } from '../../common/run-command.js';

/**
 * Parsers of OAR 2.5's command output, as observed on OAR 2.5.9 (test/client/oargrid/fixtures).
 * Anything else is a KAPLOY_OAR error naming the site: a garbage answer is never taken for a job.
 */

export type OarsubOutcome =
  | { kind: 'reserved'; jobId: number }
  /** `jobId`: OAR made the job and then refused the reservation (it is in Error, holding nothing). */
  | { kind: 'refused'; reason: string; jobId?: number };

const garbage = (site: string, what: string, text: string) =>
  new KaployError(
    'KAPLOY_OAR',
    `site ${site}: ${what} answered what OAR does not print: ${JSON.stringify(text.trim().slice(0, 200))}`,
  );

/** OAR's own lines that say nothing about the cause. */
const NOISE =
  /^(\[ADMISSION RULE\] Modify resource description|Import job key from file|\[ERROR\] Oarsub failed, please verify your request syntax|OAR_JOB_ID=|Reservation mode)/;

function reasonOf(r: CommandResult): string {
  const lines = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !NOISE.test(l));
  return lines.join(' ').slice(0, 400) || describeFailure(r);
}

/**
 * `oarsub -r DATE ...`: `OAR_JOB_ID=N` then `Reservation valid --> OK` (exit 0), or
 * `Reservation not valid --> KO (why)` (exit 10, the job left in Error); a request OAR refuses
 * before making a job prints `OAR_JOB_ID=-5` and its reason on stderr (exit 8, 254...).
 */
export function parseOarsub(site: string, r: CommandResult): OarsubOutcome {
  const ids = [...r.stdout.matchAll(/^OAR_JOB_ID=(-?\d{1,12})\s*$/gm)];
  const id = ids.length === 1 ? Number(ids[0]?.[1]) : undefined;
  const valid = /^Reservation valid --> OK\s*$/m.test(r.stdout);
  const ko = /^Reservation not valid --> KO(?: \((.*)\))?\s*$/m.exec(r.stdout);
  if (id !== undefined && id > 0) {
    if (valid && !ko && r.code === 0) return { kind: 'reserved', jobId: id };
    if (ko)
      return { kind: 'refused', jobId: id, reason: `reservation not valid (${ko[1] ?? 'no reason given'})` };
    // A job exists but OAR did not say it holds the reservation: the caller deletes it.
    return {
      kind: 'refused',
      jobId: id,
      reason: `oarsub made job ${id} without validating the reservation: ${reasonOf(r)}`,
    };
  }
  if (r.code === 0 || ids.length > 1) throw garbage(site, 'oarsub', r.stdout || r.stderr);
  return { kind: 'refused', reason: reasonOf(r) };
}

/** `oarstat -fj N -J`: the job's state, or undefined when OAR does not know the job (empty output). */
export function parseOarstatState(site: string, jobId: number, r: CommandResult): string | undefined {
  if (r.code !== 0)
    throw new KaployError('KAPLOY_OAR', `site ${site}: oarstat -fj ${jobId} failed: ${describeFailure(r)}`);
  if (r.stdout.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw garbage(site, `oarstat -fj ${jobId} -J`, r.stdout);
  }
  const job = (doc as Record<string, { state?: unknown }> | null)?.[String(jobId)];
  if (typeof job?.state !== 'string' || !/^[A-Za-z]{1,32}$/.test(job.state)) {
    throw garbage(site, `oarstat -fj ${jobId} -J`, r.stdout);
  }
  return job.state;
}

/** OAR states of a job that holds nothing any more. */
const FINAL_STATES = new Set(['Terminated', 'Error']);

/**
 * `oarstat --sql "job_name = 'NAME'" -J`: the ids of the jobs of that name still holding (or
 * waiting for) resources, submitted at `notBeforeS` (the site's clock) or later when OAR says when;
 * nothing when OAR knows no such job (empty output or `{}`).
 */
export function parseNamedJobs(site: string, name: string, notBeforeS: number, r: CommandResult): number[] {
  const what = `oarstat --sql "job_name = '${name}'" -J`;
  if (r.code !== 0)
    throw new KaployError('KAPLOY_OAR', `site ${site}: ${what} failed: ${describeFailure(r)}`);
  if (r.stdout.trim() === '') return [];
  let doc: unknown;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw garbage(site, what, r.stdout);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw garbage(site, what, r.stdout);
  const ids: number[] = [];
  for (const [key, v] of Object.entries(doc as Record<string, unknown>)) {
    const job = v as { name?: unknown; state?: unknown; submissionTime?: unknown } | null;
    if (!/^\d{1,12}$/.test(key) || typeof job?.state !== 'string') throw garbage(site, what, r.stdout);
    if (job.name !== undefined && job.name !== name) continue;
    if (FINAL_STATES.has(job.state)) continue;
    if (typeof job.submissionTime === 'number' && job.submissionTime < notBeforeS) continue;
    ids.push(Number(key));
  }
  return ids.sort((a, b) => a - b);
}

const HOST = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;

/**
 * `oarstat -p -j N`: one line per assigned resource (` network_address = 'a-1.grid' , cluster =
 * 'a' , ...`), so a host comes once per core, as in OAR's node file. Nothing while not running.
 */
export function parseResourceHosts(site: string, jobId: number, r: CommandResult): string[] {
  if (r.code !== 0)
    throw new KaployError('KAPLOY_OAR', `site ${site}: oarstat -p -j ${jobId} failed: ${describeFailure(r)}`);
  const hosts: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const m = /(?:^|\s,\s|^\s)network_address = '([^']*)'/.exec(line);
    if (!m || !HOST.test(m[1] as string)) throw garbage(site, `oarstat -p -j ${jobId}`, line);
    hosts.push(m[1] as string);
  }
  return hosts;
}

export type OardelOutcome = { kind: 'deleted' } | { kind: 'failed'; reason: string };

/**
 * `oardel N`: `Deleting the job = N ...REGISTERED.` (exit 0); a job already ended or deleted
 * says `This job was already killed` (exit 6), which is what was asked. Anything else (`You are
 * not the right user`, an unknown job, a daemon down) is a failure.
 */
export function parseOardel(jobId: number, r: CommandResult): OardelOutcome {
  const text = `${r.stdout}\n${r.stderr}`;
  if (r.code === 0 && new RegExp(`job = ${jobId} \\.\\.\\.REGISTERED`).test(text)) return { kind: 'deleted' };
  if (/This job was already killed/.test(text)) return { kind: 'deleted' };
  const why = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ')
    .slice(0, 300);
  return { kind: 'failed', reason: why || describeFailure(r) };
}

/** `date '+%s %z'`: the site's clock (seconds) and UTC offset (minutes). */
export function parseDate(site: string, r: CommandResult): { epochS: number; offsetMin: number } {
  const m = /^(\d{9,11}) ([+-])(\d{2})(\d{2})\s*$/.exec(r.stdout);
  if (r.code !== 0 || !m) throw garbage(site, 'date', r.stdout || r.stderr);
  const sign = m[2] === '-' ? -1 : 1;
  return { epochS: Number(m[1]), offsetMin: sign * (Number(m[3]) * 60 + Number(m[4])) };
}
