/**
 * kaenv3 -l columns, as Kadeploy prints them: printf("%-21s %-7s %-11s %.35s").
 */
function row(name: string, version: string, user: string, description: string): string {
  return `${name.padEnd(21)} ${version.padEnd(7)} ${user.padEnd(11)} ${description.slice(0, 35)}`.trimEnd();
}

export function formatEnvironmentList(
  envs: readonly { name: string; version: number; user: string; description: string }[],
): string {
  const lines = [
    row('Name', 'Version', 'User', 'Description'),
    row('####', '#######', '####', '###########'),
  ];
  for (const e of envs) lines.push(row(e.name, String(e.version), e.user, e.description));
  return `${lines.join('\n')}\n`;
}
