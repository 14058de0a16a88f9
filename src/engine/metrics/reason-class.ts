/**
 * The class of a KO reason, for a metric label: reasons are free text naming nodes, paths and
 * command output, so as labels they would make one series per failure. A closed set keeps the
 * series bounded; the reason itself stays in the log, kastat3 and the operation's outcomes.
 */
export const REASON_CLASSES = [
  'none',
  'cancelled',
  'timeout',
  'ssh',
  'broadcast',
  'command',
  'checksum',
  'config',
  'other',
] as const;
export type ReasonClass = (typeof REASON_CLASSES)[number];

/** Order matters: a broadcast broken by a lost SSH connection is a broadcast failure first. */
const RULES: readonly [ReasonClass, RegExp][] = [
  ['cancelled', /^(aborted|cancel)|\bcancelled\b|server shutting down/i],
  ['broadcast', /broadcast|relay|could not send the image/i],
  ['timeout', /timed out|timeout|not back after|within \d+ ?s\b/i],
  ['ssh', /\bSSH\b|host key|connection (lost|refused)/i],
  ['checksum', /checksum/i],
  ['config', /is not provided|unknown cluster|not configured/i],
  ['command', /exited with code|killed by signal/i],
];

export function reasonClass(status: string, reason: string | undefined): ReasonClass {
  if (status === 'ok' || status === 'breakpoint') return 'none';
  if (status === 'cancelled') return 'cancelled';
  if (!reason) return 'other';
  for (const [cls, re] of RULES) if (re.test(reason)) return cls;
  return 'other';
}
