/** Restore states and rows as the engine keeps them and GET /restores returns them. */
export const RESTORE_STATES = ['pending', 'running', 'done', 'failed', 'superseded'] as const;
export type RestoreState = (typeof RESTORE_STATES)[number];

export interface RestoreRow {
  job: number;
  node: string;
  user: string;
  production: string;
  state: RestoreState;
  attempts: number;
  reason: string;
  next_attempt: number;
  created: number;
  updated: number;
}
