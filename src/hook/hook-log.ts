/**
 * One line per action, in the shape of OAR's own log lines, on the hook's stdout, which OAR
 * appends to /var/log/oar.log: `[kaploy] [2026-01-02 10:00:00.123] [server_epilogue] [job 12] ...`.
 */
export type HookLog = (message: string) => void;

export function hookLogger(
  hook: string,
  jobId: number | undefined,
  write: (line: string) => void,
  now: () => Date = () => new Date(),
): HookLog {
  const job = jobId === undefined ? '' : ` [job ${jobId}]`;
  return (message) => {
    const t = now().toISOString().replace('T', ' ').replace('Z', '');
    write(`[kaploy] [${t}] [${hook}]${job} ${message.replace(/[\r\n]+/g, ' ')}\n`);
  };
}
