import { describe, expect, it } from 'vitest';
import { isKaployError } from '../../src/common/errors.js';
import { formatPlan, parseAutomata, parseForceSteps } from '../../src/formats/force-steps.js';

const TUTORIAL =
  'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:450&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvClassical:1:400';

function errorOf(f: () => unknown) {
  try {
    f();
  } catch (e) {
    if (isKaployError(e)) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('parseForceSteps', () => {
  it('parses the tutorial example', () => {
    expect(parseForceSteps(TUTORIAL)).toEqual({
      SetDeploymentEnv: [{ impl: 'SetDeploymentEnvUntrusted', retries: 1, timeoutSec: 450 }],
      BroadcastEnv: [{ impl: 'BroadcastEnvKastafior', retries: 1, timeoutSec: 1200 }],
      BootNewEnv: [{ impl: 'BootNewEnvClassical', retries: 1, timeoutSec: 400 }],
    });
  });

  it('keeps several items of a macro-step as fallbacks in order, accepting a trailing comma', () => {
    const plan = parseForceSteps(
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:450&BroadcastEnv|BroadcastEnvKastafior:1:1200,&BootNewEnv|BootNewEnvKexec:1:150,BootNewEnvHardReboot:0:300',
    );
    expect(plan.BootNewEnv).toEqual([
      { impl: 'BootNewEnvKexec', retries: 1, timeoutSec: 150 },
      { impl: 'BootNewEnvHardReboot', retries: 0, timeoutSec: 300 },
    ]);
    expect(plan.BroadcastEnv).toHaveLength(1);
  });

  it('round-trips through formatPlan', () => {
    expect(formatPlan(parseForceSteps(TUTORIAL))).toBe(TUTORIAL);
  });

  it.each([
    [
      'a missing macro-step',
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:450&BroadcastEnv|BroadcastEnvKastafior:1:1200',
      'macro-step BootNewEnv is missing (all of SetDeploymentEnv, BroadcastEnv, BootNewEnv are needed)',
      'BootNewEnv',
    ],
    [
      'macro-steps out of order',
      'BroadcastEnv|BroadcastEnvKastafior:1:1200&SetDeploymentEnv|SetDeploymentEnvUntrusted:1:450&BootNewEnv|BootNewEnvClassical:1:400',
      'macro-step BroadcastEnv is out of order: part 1 must be SetDeploymentEnv',
      'BroadcastEnv',
    ],
    [
      'an unknown macro-step',
      'SetDeployEnv|SetDeploymentEnvUntrusted:1:450&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvClassical:1:400',
      "unknown macro-step 'SetDeployEnv' (expected one of SetDeploymentEnv, BroadcastEnv, BootNewEnv)",
      'SetDeployEnv',
    ],
    [
      'an unknown implementation',
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:450&BroadcastEnv|BroadcastEnvKastafor:1:1200&BootNewEnv|BootNewEnvClassical:1:400',
      "unknown implementation 'BroadcastEnvKastafor' for BroadcastEnv (valid: BroadcastEnvChain, BroadcastEnvKastafior, BroadcastEnvKascade, BroadcastEnvTree, BroadcastEnvDummy)",
      'BroadcastEnv',
    ],
    [
      'an implementation in the wrong macro-step',
      'SetDeploymentEnv|BootNewEnvClassical:1:450&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvClassical:1:400',
      'implementation BootNewEnvClassical belongs to BootNewEnv, not to SetDeploymentEnv',
      'SetDeploymentEnv',
    ],
    [
      'a bad retries number',
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:x:450&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvClassical:1:400',
      "retries 'x' in item 'SetDeploymentEnvUntrusted:x:450' of SetDeploymentEnv must be a whole number",
      'SetDeploymentEnv',
    ],
    [
      'a negative timeout',
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:450&BroadcastEnv|BroadcastEnvKastafior:1:-3&BootNewEnv|BootNewEnvClassical:1:400',
      "timeout '-3' in item 'BroadcastEnvKastafior:1:-3' of BroadcastEnv must be a whole number",
      'BroadcastEnv',
    ],
    [
      'an item without its timeout',
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:1&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvClassical:1:400',
      "item 'SetDeploymentEnvUntrusted:1' of SetDeploymentEnv must be Implementation:retries:timeout",
      'SetDeploymentEnv',
    ],
    [
      'a macro-step without implementations',
      'SetDeploymentEnv|&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvClassical:1:400',
      'macro-step SetDeploymentEnv lists no implementation',
      'SetDeploymentEnv',
    ],
    [
      'a part without its bar',
      'SetDeploymentEnv&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvClassical:1:400',
      "part 1 'SetDeploymentEnv' must be MacroStep|Impl:retries:timeout[,...]",
      undefined,
    ],
    [
      'an absurd timeout',
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:99999999&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvClassical:1:400',
      "timeout 99999999 in item 'SetDeploymentEnvUntrusted:1:99999999' of SetDeploymentEnv is above the limit 604800",
      'SetDeploymentEnv',
    ],
  ])('rejects %s, saying which part is wrong', (_what, text, message, step) => {
    const e = errorOf(() => parseForceSteps(text));
    expect(e.code).toBe('KAPLOY_OPTION');
    expect(e.message).toBe(`Invalid --force-steps '${text}': ${message}`);
    expect(e.fields).toEqual({ key: 'force-steps', ...(step === undefined ? {} : { step }) });
  });

  it('reports automata errors as configuration errors with the config key', () => {
    const e = errorOf(() => parseAutomata('SetDeploymentEnv|Nope:1:1', 'clusters[0].automata'));
    expect(e.code).toBe('KAPLOY_CONFIG');
    expect(e.fields.key).toBe('clusters[0].automata');
    expect(e.message).toContain("unknown implementation 'Nope' for SetDeploymentEnv");
  });
});
