/** An open kaconsole3 session (C- id), as the /console routes return it. */
export interface ConsoleView {
  wid: string;
  user: string;
  node: string;
  startedAt: number;
}
