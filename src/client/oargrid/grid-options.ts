import { KaployError } from '../../common/errors.js';

/** oargridsub's options other than the description, checked before any site is asked. */
export interface GridSubmitOptions {
  types: string[];
  walltimeS: number;
  /** The reservation's start on this machine's clock (ms since the epoch); absent: now. */
  startMs?: number;
  /** Run by the first alias's site job when the reservation starts (OAR's job command). */
  program?: string;
  queue?: string;
  /** -F: keep the sites that accepted when another refuses. */
  keepPartial: boolean;
}

/** oargrid's default walltime. */
const DEFAULT_WALLTIME_S = 3600;
/** A year: past that a walltime is a typo, and OAR would hold the nodes for it. */
const MAX_WALLTIME_S = 366 * 24 * 3600;

const opt = (message: string) => new KaployError('KAPLOY_OPTION', message);

/** OAR's `h[:m[:s]]` (`-w 03:00:00`, `-w 3`, `-w 1:30`). */
export function parseWalltime(text: string | undefined): number {
  if (text === undefined) return DEFAULT_WALLTIME_S;
  const m = /^(\d{1,5})(?::(\d{1,2}))?(?::(\d{1,2}))?$/.exec(text);
  if (!m) throw opt(`walltime '${text.slice(0, 40)}' does not parse; expected h[:m[:s]] such as 03:00:00`);
  const [h, min = 0, s = 0] = [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
  if (min > 59 || s > 59) throw opt(`walltime '${text}': minutes and seconds go from 0 to 59`);
  const total = h * 3600 + min * 60 + s;
  if (total < 1 || total > MAX_WALLTIME_S)
    throw opt(`walltime '${text}': expected 0:00:01 to ${MAX_WALLTIME_S / 3600}:00:00`);
  return total;
}

/** `H:MM:SS`, as OAR's `walltime=` takes it. */
export function formatWalltime(s: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/**
 * `-s "YYYY-MM-DD hh:mm:ss"` on this machine's clock and time zone (as oarsub -r reads its own
 * site's); a date that does not exist (2026-02-30, 24:00:00) or lies in the past is refused.
 */
function parseStartDate(text: string | undefined, nowMs: number): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) throw opt(`start date '${text.slice(0, 40)}' does not parse; expected "YYYY-MM-DD hh:mm:ss"`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(y, mo - 1, d, h, mi, s);
  if (
    date.getFullYear() !== y ||
    date.getMonth() !== mo - 1 ||
    date.getDate() !== d ||
    date.getHours() !== h ||
    date.getMinutes() !== mi ||
    date.getSeconds() !== s
  ) {
    throw opt(`start date '${text}' is not a date of the calendar (or falls in a daylight-saving gap)`);
  }
  // A minute of grace: a start typed as "now" is a few seconds old when it is parsed.
  if (date.getTime() < nowMs - 60_000) throw opt(`start date '${text}' is in the past`);
  return date.getTime();
}

/** OAR job types (`deploy`, `besteffort`, `timesharing=user,*`), queues: names, never options. */
const TYPE = /^[A-Za-z0-9_][A-Za-z0-9_=.,*:-]{0,63}$/;
const QUEUE = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
const MAX_PROGRAM_CHARS = 4096;

function checkTypes(types: readonly string[]): string[] {
  if (types.length > 16) throw opt(`${types.length} job types; at most 16`);
  for (const t of types) if (!TYPE.test(t)) throw opt(`job type '${t.slice(0, 64)}' is not a type name`);
  return [...types];
}

function checkQueue(queue: string | undefined): string | undefined {
  if (queue !== undefined && !QUEUE.test(queue))
    throw opt(`queue '${queue.slice(0, 64)}' is not a queue name`);
  return queue;
}

/** The program is the user's own command on their own account: bounded, one line, no NUL. */
function checkProgram(program: string | undefined): string | undefined {
  if (program === undefined) return undefined;
  if (program.trim() === '') throw opt('-p: empty program');
  if (program.length > MAX_PROGRAM_CHARS)
    throw opt(`-p: program longer than ${MAX_PROGRAM_CHARS} characters`);
  if (/[\0\r\n]/.test(program)) throw opt('-p: the program must be one line');
  return program;
}

/** oargridsub's flags as commander gives them. */
export interface GridSubmitFlags {
  type?: string[];
  walltime?: string;
  startDate?: string;
  program?: string;
  queue?: string;
  force?: boolean;
}

/** Every option checked, before any site is asked. */
export function parseSubmitOptions(f: GridSubmitFlags, nowMs: number): GridSubmitOptions {
  const startMs = parseStartDate(f.startDate, nowMs);
  const program = checkProgram(f.program);
  const queue = checkQueue(f.queue);
  return {
    types: checkTypes(f.type ?? []),
    walltimeS: parseWalltime(f.walltime),
    ...(startMs === undefined ? {} : { startMs }),
    ...(program === undefined ? {} : { program }),
    ...(queue === undefined ? {} : { queue }),
    keepPartial: f.force === true,
  };
}
