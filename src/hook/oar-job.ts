import { KaployError } from '../common/errors.js';
import { isValidHostname } from '../formats/node-names.js';
import { isValidUserName } from '../formats/user-name.js';
import { printable } from './job-id.js';

/** What the hooks need of an OAR job, validated where it enters (oarstat's output). */
export interface OarJob {
  id: number;
  owner: string;
  state: string;
  types: string[];
  /** Assigned hosts (network_address), duplicates folded, in OAR's order. */
  nodes: string[];
  /** OAR resource ids assigned to the job (assigned_resources): every resource of its hosts. */
  resources: number[];
  /** Event types (FRAG_JOB_REQUEST for oardel, WALLTIME, ...): why the job ended, for the log. */
  events: string[];
}

/** OAR marks deploy jobs with the type `deploy` (OAR 2.5 also accepts `deploy=VALUE`). */
export function isDeployJob(job: OarJob): boolean {
  return job.types.some((t) => t === 'deploy' || t.startsWith('deploy='));
}

function bad(jobId: number, what: string): KaployError {
  return new KaployError('KAPLOY_EXECUTE', `oarstat output for job ${jobId} is not usable: ${what}`);
}

/**
 * Parses `oarstat -J -f -j ID` (OAR 2.5.9: `{"ID": {"Job_Id": ID, "owner": ..., "types": [...],
 * "assigned_network_address": [...], "state": ..., "events": [{type, ...}]}}`). Returns undefined for an
 * unknown job, for which OAR 2.5.9 prints nothing and exits 0.
 */
export function parseOarstatJson(text: string, jobId: number): OarJob | undefined {
  if (text.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad(jobId, `not JSON (starts with '${printable(text.trim(), 40)}')`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw bad(jobId, 'expected a JSON object keyed by job id');
  const entries = Object.keys(doc);
  if (entries.length === 0) return undefined;
  const raw = (doc as Record<string, unknown>)[String(jobId)];
  if (raw === undefined)
    throw bad(jobId, `no entry for job ${jobId} (entries: ${printable(entries.join(','), 40)})`);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw bad(jobId, 'the job entry is not an object');
  const j = raw as Record<string, unknown>;
  if (Number(j.Job_Id) !== jobId) throw bad(jobId, `Job_Id is ${printable(String(j.Job_Id), 20)}`);
  const owner = j.owner;
  if (typeof owner !== 'string' || !isValidUserName(owner))
    throw bad(jobId, `invalid owner '${printable(String(owner), 40)}'`);
  const state = typeof j.state === 'string' ? j.state : '';
  if (!/^[A-Za-z]{1,32}$/.test(state)) throw bad(jobId, `invalid state '${printable(String(j.state), 40)}'`);
  const types = stringArray(j.types, jobId, 'types');
  const nodes = [
    ...new Set(stringArray(j.assigned_network_address ?? [], jobId, 'assigned_network_address')),
  ];
  for (const n of nodes)
    if (!isValidHostname(n))
      throw bad(jobId, `invalid host name '${printable(n, 60)}' in assigned_network_address`);
  const events = Array.isArray(j.events)
    ? j.events.map((e) =>
        e && typeof e === 'object' && typeof (e as { type?: unknown }).type === 'string'
          ? (e as { type: string }).type
          : '?',
      )
    : [];
  const rawResources = j.assigned_resources ?? [];
  if (
    !Array.isArray(rawResources) ||
    rawResources.some((r) => !Number.isSafeInteger(r) || (r as number) < 1)
  ) {
    throw bad(jobId, 'assigned_resources is not a list of resource ids');
  }
  return { id: jobId, owner, state, types, nodes, resources: rawResources as number[], events };
}

function stringArray(x: unknown, jobId: number, key: string): string[] {
  if (!Array.isArray(x) || x.some((s) => typeof s !== 'string'))
    throw bad(jobId, `${key} is not a list of strings`);
  return x as string[];
}

/** Why the job ended, from its events, for the epilogue's log line. */
export function endReason(job: OarJob): string {
  if (job.events.includes('WALLTIME')) return 'walltime reached';
  if (job.events.includes('FRAG_JOB_REQUEST')) return 'deleted (oardel or walltime)';
  return 'ended';
}
