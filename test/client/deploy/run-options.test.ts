import { describe, expect, it } from 'vitest';
import { checkRunOptions, type DeployRunOptions } from '../../../src/client/deploy/run-options.js';
import { KaployError } from '../../../src/common/errors.js';

const base: DeployRunOptions = {
  nodes: ['node-1.site'],
  environment: { kind: 'recorded', name: 'tiny-x64-base' },
  request: {},
  verbose: 3,
  wait: true,
  dryRun: false,
};

/** The error checkRunOptions throws for these options, as `code: message`. */
function refusal(o: Partial<DeployRunOptions>): string {
  try {
    checkRunOptions({ ...base, ...o });
  } catch (e) {
    expect(e).toBeInstanceOf(KaployError);
    return `${(e as KaployError).code}: ${(e as KaployError).message}`;
  }
  return 'accepted';
}

describe('checkRunOptions (kadeploy3, one site and -M)', () => {
  it('accepts a plain run in both modes', () => {
    expect(refusal({})).toBe('accepted');
    expect(refusal({ multiServer: true, outputOk: 'ok', outputKo: 'ko', script: '/bin/true' })).toBe(
      'accepted',
    );
  });

  it('refuses --no-wait with -s identically on one site and with -M', () => {
    const one = refusal({ wait: false, script: './after.sh' });
    expect(one).toBe(
      'KAPLOY_CONFLICTING_OPTIONS: -s/--script cannot be used with --no-wait (the script runs after the deployment, which kadeploy3 does not wait for)',
    );
    expect(refusal({ wait: false, script: './after.sh', multiServer: true })).toBe(one);
  });

  it('refuses --no-wait with -o/-n, and -o equal to -n, identically in both modes', () => {
    for (const o of [
      { wait: false, outputOk: 'ok' },
      { wait: false, outputKo: 'ko' },
      { outputOk: 'same', outputKo: 'same' },
    ]) {
      const one = refusal(o);
      expect(one).toMatch(/^KAPLOY_CONFLICTING_OPTIONS: -o/);
      expect(refusal({ ...o, multiServer: true })).toBe(one);
    }
  });

  it('refuses with -M what needs one deployment: --resume, --write-workflow-id, -S', () => {
    expect(refusal({ multiServer: true, resume: 'D-1', nodes: [] })).toBe(
      'KAPLOY_CONFLICTING_OPTIONS: -M/--multi-server cannot be used with --resume (one deployment per site)',
    );
    expect(refusal({ multiServer: true, writeWorkflowId: 'wid', server: 'orsay' })).toBe(
      'KAPLOY_CONFLICTING_OPTIONS: -M/--multi-server cannot be used with --write-workflow-id, -S (one deployment per site)',
    );
    expect(refusal({ writeWorkflowId: 'wid', server: 'orsay' })).toBe('accepted');
  });

  it('needs nodes unless resuming; refuses --dry-run with --resume', () => {
    expect(refusal({ nodes: [] })).toMatch(/^KAPLOY_NODE_LIST: no node given/);
    expect(refusal({ nodes: [], resume: 'D-1' })).toBe('accepted');
    expect(refusal({ nodes: [], resume: 'D-1', dryRun: true })).toBe(
      'KAPLOY_CONFLICTING_OPTIONS: --dry-run cannot be used with --resume',
    );
  });
});
