import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/common/exit-codes.js';
import { exitCodeFor, exitCodeForErrorCode } from '../../src/cli/common/run-cli.js';
import { APP_CODES, KaployError, type KaployErrorCode } from '../../src/common/errors.js';

/** Every stable error code lands on one row of the README's exit-code table. */
const EXPECTED: Record<KaployErrorCode, number> = {
  KAPLOY_INVALID_WORKFLOW_ID: EXIT.REFUSED,
  KAPLOY_NODE_LIST: EXIT.USAGE,
  KAPLOY_CLIENT: EXIT.UNREACHABLE,
  KAPLOY_OPTION: EXIT.USAGE,
  KAPLOY_FILE: EXIT.USAGE,
  KAPLOY_RIGHTS: EXIT.REFUSED,
  KAPLOY_ENVIRONMENT: EXIT.REFUSED,
  KAPLOY_CUSTOM_OP: EXIT.REFUSED,
  KAPLOY_VLAN: EXIT.REFUSED,
  KAPLOY_EXISTS: EXIT.REFUSED,
  KAPLOY_CONFLICT: EXIT.REFUSED,
  KAPLOY_MISSING_OPTION: EXIT.USAGE,
  KAPLOY_CONFLICTING_OPTIONS: EXIT.USAGE,
  KAPLOY_NOTHING_MODIFIED: EXIT.REFUSED,
  KAPLOY_EXECUTE: EXIT.REFUSED,
  KAPLOY_DATABASE: EXIT.REFUSED,
  KAPLOY_CACHE: EXIT.REFUSED,
  KAPLOY_CACHE_FULL: EXIT.REFUSED,
  KAPLOY_DESTRUCTIVE: EXIT.REFUSED,
  KAPLOY_AUTH: EXIT.UNREACHABLE,
  KAPLOY_CONFIG: EXIT.USAGE,
  KAPLOY_NOT_FOUND: EXIT.REFUSED,
  KAPLOY_CHECKSUM: EXIT.REFUSED,
  KAPLOY_OAR: EXIT.REFUSED,
  // A per-node outcome's code, never thrown: the run's exit code comes from the outcomes (1 or 2).
  KAPLOY_PREEMPTED: EXIT.REFUSED,
  KAPLOY_INTERNAL: EXIT.INTERNAL,
};

describe('exit code of an error', () => {
  it.each(Object.keys(APP_CODES) as KaployErrorCode[])('%s', (code) => {
    expect(exitCodeForErrorCode(code)).toBe(EXPECTED[code]);
    expect(exitCodeFor(new KaployError(code, 'm'))).toBe(EXPECTED[code]);
  });
  it('commander: help is 0, anything else a usage error; an interruption wins; other errors are internal', () => {
    expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', ''))).toBe(EXIT.OK);
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', ''))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new KaployError('KAPLOY_CLIENT', 'm'), true)).toBe(EXIT.CANCELLED);
    expect(exitCodeFor(new Error('boom'))).toBe(EXIT.INTERNAL);
  });
});
