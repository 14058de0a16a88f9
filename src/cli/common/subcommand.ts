/** What `kaploy` hands every subcommand family: the program's signal and a way to set the exit code. */
export interface SubcommandContext {
  signal: AbortSignal;
  setCode: (code: number) => void;
}
