import { CommanderError } from 'commander';
import { errorMessage, isKaployError, type KaployErrorCode } from '../../common/errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { skipWasmTierUp } from './wasm-tier.js';

/**
 * The one error boundary of a program: runs `main`, maps errors to a message on stderr and an exit
 * code. Library code never calls process.exit.
 */
export async function runCli(
  prog: string,
  main: (signal: AbortSignal) => Promise<ExitCode | number | undefined>,
): Promise<void> {
  skipWasmTierUp();
  const ac = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(EXIT.CANCELLED);
    interrupted = true;
    process.stderr.write(`\n${prog}: interrupted, cancelling (Ctrl-C again to quit at once)\n`);
    ac.abort(new Error('interrupted by the user'));
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let code: number;
  try {
    code = (await main(ac.signal)) ?? EXIT.OK;
  } catch (e) {
    code = exitCodeFor(e, interrupted);
    if (!(e instanceof CommanderError)) process.stderr.write(`${prog}: ${formatError(e)}\n`);
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  process.exitCode = code;
}

function formatError(e: unknown): string {
  if (isKaployError(e)) return `${e.message} [${e.code}]`;
  return errorMessage(e);
}

export function exitCodeFor(e: unknown, interrupted = false): ExitCode {
  if (interrupted) return EXIT.CANCELLED;
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  if (isKaployError(e)) return exitCodeForErrorCode(e.code);
  return EXIT.INTERNAL;
}

/** The README's exit-code contract, from an error's stable code (also for errors a report carries). */
export function exitCodeForErrorCode(code: KaployErrorCode): ExitCode {
  switch (code) {
    case 'KAPLOY_OPTION':
    case 'KAPLOY_MISSING_OPTION':
    case 'KAPLOY_CONFLICTING_OPTIONS':
    case 'KAPLOY_FILE':
    case 'KAPLOY_CONFIG':
    case 'KAPLOY_NODE_LIST':
      return EXIT.USAGE;
    // KAPLOY_CLIENT is what the HTTP clients throw when no answer came from the server.
    case 'KAPLOY_CLIENT':
    case 'KAPLOY_AUTH':
      return EXIT.UNREACHABLE;
    case 'KAPLOY_INTERNAL':
      return EXIT.INTERNAL;
    default:
      return EXIT.REFUSED;
  }
}
