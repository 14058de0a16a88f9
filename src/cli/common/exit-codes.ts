/**
 * Exit codes shared by every kaploy command. Unlike Kadeploy (0 even with KO nodes), a script can
 * tell from the code alone what happened (see docs/decisions/0003-exit-codes.md).
 */
export const EXIT = {
  OK: 0, // everything asked was done on every node
  SOME_FAILED: 1, // the operation ran; some nodes succeeded, some failed
  ALL_FAILED: 2, // the operation ran; no node succeeded
  USAGE: 3, // bad command line or input file: nothing was started
  REFUSED: 4, // the server refused (rights, unknown environment, checksum, ...): nothing was started
  UNREACHABLE: 5, // the server could not be reached or authentication failed: nothing was started
  INTERNAL: 6, // unexpected error
  TOO_FEW_NODES: 7, // kaploy run: fewer nodes deployed than required; the command was not run
  COMMAND_FAILED: 8, // kaploy run: the command ran on the deployed nodes and failed
  BREAKPOINT: 9, // kadeploy3 --breakpoint: stopped where asked, no node failed (resume with --resume WID)
  CANCELLED: 130, // interrupted by the user (Ctrl-C)
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
