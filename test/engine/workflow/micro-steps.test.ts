import { describe, expect, it } from 'vitest';
import { parseBreakpoint } from '../../../src/engine/workflow/breakpoint.js';
import {
  BASE_MICRO_STEPS,
  microSteps,
  plannedSteps,
  pruneMicroSteps,
} from '../../../src/engine/workflow/micro-steps.js';
import { resolvePlan } from '../../../src/engine/workflow/resolve-plan.js';
import type { Implementation, MicroStep } from '../../../src/engine/workflow/types.js';
import type { WorkflowOptions } from '../../../src/engine/workflow/workflow-options.js';
import { parseForceSteps } from '../../../src/formats/force-steps.js';

/** Everything on: nothing pruned except what no option can keep (decompress is never listed). */
const ALL: WorkflowOptions = {
  os: 'linux',
  imageKind: 'tar',
  key: true,
  reformatTmp: 'ext4',
  userPostinstall: true,
  adminPostinstall: true,
  preinstall: true,
  vlan: '3',
  partitions: { deploy: 3, swap: 1, tmp: 5 },
};
/** The tutorial's deployment: -k, no -r, no --vlan, an environment with postinstalls. */
const TUTORIAL: WorkflowOptions = {
  os: 'linux',
  imageKind: 'tar',
  key: true,
  userPostinstall: true,
  adminPostinstall: true,
  partitions: { deploy: 3, swap: 1, tmp: 5 },
};

const without = (impl: Implementation, opts: WorkflowOptions) => {
  const full = microSteps(impl, ALL);
  const got = microSteps(impl, opts);
  return full.filter((m) => !got.includes(m));
};

describe('micro-step lists', () => {
  it('gives every implementation its reference list when nothing is pruned', () => {
    expect(microSteps('SetDeploymentEnvUntrusted', ALL)).toEqual([
      'switch_pxe',
      'set_vlan',
      'reboot',
      'wait_reboot',
      'send_key_in_deploy_env',
      'create_partition_table',
      'format_deploy_part',
      'mount_deploy_part',
      'format_tmp_part',
      'format_swap_part',
    ]);
    expect(microSteps('SetDeploymentEnvKexec', ALL)).toEqual([
      'set_vlan',
      'send_deployment_kernel',
      'sync',
      'kexec',
      'wait_reboot',
      'send_key_in_deploy_env',
      'create_partition_table',
      'format_deploy_part',
      'mount_deploy_part',
      'format_tmp_part',
      'format_swap_part',
    ]);
    expect(microSteps('SetDeploymentEnvProd', ALL)).toEqual([
      'check_nodes',
      'format_deploy_part',
      'mount_deploy_part',
      'format_tmp_part',
    ]);
    expect(microSteps('SetDeploymentEnvUntrustedCustomPreInstall', ALL)).toEqual([
      'switch_pxe',
      'set_vlan',
      'reboot',
      'wait_reboot',
      'send_key_in_deploy_env',
      'manage_preinstall',
      'mount_deploy_part',
    ]);
    expect(microSteps('SetDeploymentEnvNfsroot', ALL)).toEqual(microSteps('SetDeploymentEnvUntrusted', ALL));
    for (const b of [
      'BroadcastEnvChain',
      'BroadcastEnvKastafior',
      'BroadcastEnvKascade',
      'BroadcastEnvTree',
    ] as const) {
      expect(microSteps(b, ALL)).toEqual([
        'send_environment',
        'manage_admin_post_install',
        'manage_user_post_install',
        'check_kernel_files',
        'send_key',
        'install_bootloader',
        'sync',
      ]);
    }
    expect(microSteps('BootNewEnvClassical', ALL)).toEqual([
      'switch_pxe',
      'umount_deploy_part',
      'reboot_from_deploy_env',
      'set_vlan',
      'wait_reboot',
    ]);
    expect(microSteps('BootNewEnvKexec', ALL)).toEqual([
      'switch_pxe',
      'umount_deploy_part',
      'mount_deploy_part',
      'kexec',
      'set_vlan',
      'wait_reboot',
    ]);
    expect(microSteps('BootNewEnvHardReboot', ALL)).toEqual([
      'switch_pxe',
      'reboot',
      'set_vlan',
      'wait_reboot',
    ]);
    for (const d of ['SetDeploymentEnvDummy', 'BroadcastEnvDummy', 'BootNewEnvDummy'] as const) {
      expect(microSteps(d, ALL)).toEqual(['dummy']);
    }
  });

  it("runs the tutorial's 19 default micro-steps, in order", () => {
    const plan = parseForceSteps(
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:450&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvClassical:1:400',
    );
    const steps = plannedSteps(plan, { ...TUTORIAL, reformatTmp: 'ext3', vlan: '1' });
    expect(steps.map((s) => `${s.impl}-${s.micro}`)).toEqual([
      'SetDeploymentEnvUntrusted-switch_pxe',
      'SetDeploymentEnvUntrusted-set_vlan',
      'SetDeploymentEnvUntrusted-reboot',
      'SetDeploymentEnvUntrusted-wait_reboot',
      'SetDeploymentEnvUntrusted-send_key_in_deploy_env',
      'SetDeploymentEnvUntrusted-create_partition_table',
      'SetDeploymentEnvUntrusted-format_deploy_part',
      'SetDeploymentEnvUntrusted-mount_deploy_part',
      'SetDeploymentEnvUntrusted-format_tmp_part',
      'SetDeploymentEnvUntrusted-format_swap_part',
      'BroadcastEnvKastafior-send_environment',
      'BroadcastEnvKastafior-manage_admin_post_install',
      'BroadcastEnvKastafior-manage_user_post_install',
      'BroadcastEnvKastafior-check_kernel_files',
      'BroadcastEnvKastafior-send_key',
      'BroadcastEnvKastafior-install_bootloader',
      'BroadcastEnvKastafior-sync',
      'BootNewEnvClassical-switch_pxe',
      'BootNewEnvClassical-umount_deploy_part',
      'BootNewEnvClassical-reboot_from_deploy_env',
      'BootNewEnvClassical-set_vlan',
      'BootNewEnvClassical-wait_reboot',
    ]);
    // The 3.1-era tutorial lists 19: it predates check_kernel_files and sync, and its
    // SetDeploymentEnvUntrusted had no set_vlan. With those three set aside, the order is its order.
    const tutorial19 = steps
      .map((s) => `${s.impl}-${s.micro}`)
      .filter(
        (s) =>
          ![
            'SetDeploymentEnvUntrusted-set_vlan',
            'BroadcastEnvKastafior-check_kernel_files',
            'BroadcastEnvKastafior-sync',
          ].includes(s),
      );
    expect(tutorial19).toHaveLength(19);
  });

  it('lists every base micro-step name in the MicroStep union', () => {
    const all = new Set(Object.values(BASE_MICRO_STEPS).flat());
    expect(all.has('decompress_environment' as MicroStep)).toBe(false);
  });
});

describe('pruning', () => {
  it('drops both key steps without -k', () => {
    expect(without('SetDeploymentEnvUntrusted', { ...ALL, key: false })).toEqual(['send_key_in_deploy_env']);
    expect(without('BroadcastEnvKastafior', { ...ALL, key: false })).toEqual(['send_key']);
  });

  it('drops create_partition_table with --disable-disk-partitioning', () => {
    expect(without('SetDeploymentEnvUntrusted', { ...ALL, disableDiskPartitioning: true })).toEqual([
      'create_partition_table',
    ]);
  });

  it('drops format_tmp_part without -r', () => {
    const { reformatTmp: _r, ...noR } = ALL;
    expect(without('SetDeploymentEnvUntrusted', noR)).toEqual(['format_tmp_part']);
    expect(without('SetDeploymentEnvProd', noR)).toEqual(['format_tmp_part']);
  });

  it('skips format_deploy_part, the early mount and check_kernel_files for dd and fsa images', () => {
    for (const imageKind of ['dd', 'fsa'] as const) {
      expect(without('SetDeploymentEnvUntrusted', { ...ALL, imageKind })).toEqual([
        'format_deploy_part',
        'mount_deploy_part',
      ]);
      // The broadcast mounts the written partition instead, before the postinstalls.
      expect(microSteps('BroadcastEnvKastafior', { ...ALL, imageKind })).toEqual([
        'send_environment',
        'mount_deploy_part',
        'manage_admin_post_install',
        'manage_user_post_install',
        'send_key',
        'install_bootloader',
        'sync',
      ]);
    }
  });

  it('drops the postinstall steps when there are none', () => {
    expect(without('BroadcastEnvKastafior', { ...ALL, userPostinstall: false })).toEqual([
      'manage_user_post_install',
    ]);
    expect(without('BroadcastEnvKastafior', { ...ALL, adminPostinstall: false })).toEqual([
      'manage_admin_post_install',
    ]);
  });

  it('drops install_bootloader with --disable-bootloader-install', () => {
    expect(without('BroadcastEnvKastafior', { ...ALL, disableBootloaderInstall: true })).toEqual([
      'install_bootloader',
    ]);
  });

  it('drops set_vlan everywhere without --vlan', () => {
    const { vlan: _v, ...noVlan } = ALL;
    for (const impl of Object.keys(BASE_MICRO_STEPS) as Implementation[]) {
      expect(microSteps(impl, noVlan)).not.toContain('set_vlan');
    }
    expect(without('BootNewEnvClassical', noVlan)).toEqual(['set_vlan']);
  });

  it('drops manage_preinstall without a preinstall', () => {
    expect(without('SetDeploymentEnvUntrustedCustomPreInstall', { ...ALL, preinstall: false })).toEqual([
      'manage_preinstall',
    ]);
  });

  it('does not format the swap or tmp partition when deploying on it (-p), nor swap for non-linux', () => {
    expect(
      without('SetDeploymentEnvUntrusted', { ...ALL, partitions: { deploy: 1, swap: 1, tmp: 5 } }),
    ).toEqual(['format_swap_part']);
    expect(
      without('SetDeploymentEnvUntrusted', { ...ALL, partitions: { deploy: 5, swap: 1, tmp: 5 } }),
    ).toEqual(['format_tmp_part']);
    // Another non-default partition formats swap as usual.
    expect(
      without('SetDeploymentEnvUntrusted', { ...ALL, partitions: { deploy: 6, swap: 1, tmp: 5 } }),
    ).toEqual([]);
    expect(without('SetDeploymentEnvUntrusted', { ...ALL, os: 'other' })).toEqual(['format_swap_part']);
    expect(without('SetDeploymentEnvUntrusted', { ...ALL, partitions: { deploy: 3 } })).toEqual([
      'format_swap_part',
    ]);
  });

  it('does not touch tmp and swap for a multi-partitioned environment', () => {
    expect(without('SetDeploymentEnvUntrusted', { ...ALL, multipart: true })).toEqual([
      'format_tmp_part',
      'format_swap_part',
    ]);
  });

  it('formats nothing when the image goes to a whole block device', () => {
    expect(without('SetDeploymentEnvUntrusted', { ...ALL, imageKind: 'dd', wholeBlockDevice: true })).toEqual(
      [
        'create_partition_table',
        'format_deploy_part',
        'mount_deploy_part',
        'format_tmp_part',
        'format_swap_part',
      ],
    );
  });

  it('skips what needs the mounted system when the deploy partition cannot be mounted', () => {
    expect(without('BroadcastEnvKastafior', { ...ALL, unmountable: true })).toEqual([
      'manage_admin_post_install',
      'manage_user_post_install',
      'check_kernel_files',
      'send_key',
      'install_bootloader',
    ]);
    expect(without('BootNewEnvClassical', { ...ALL, unmountable: true })).toEqual(['umount_deploy_part']);
  });

  it('says why each step was bypassed', () => {
    expect(pruneMicroSteps('BootNewEnvHardReboot', { os: 'linux', imageKind: 'tar' }).bypassed).toEqual([
      { micro: 'set_vlan', why: 'no --vlan' },
    ]);
  });
});

describe('resolvePlan', () => {
  const kexec = parseForceSteps(
    'SetDeploymentEnv|SetDeploymentEnvKexec:1:100&BroadcastEnv|BroadcastEnvKastafior:1:900&BootNewEnv|BootNewEnvKexec:1:250,BootNewEnvHardReboot:0:300',
  );

  it('keeps Kexec for a linux environment', () => {
    expect(resolvePlan(kexec, TUTORIAL)).toEqual({ plan: kexec, notes: [] });
  });

  it('falls back to Classical (0 retries, classical timeout + 200 s) for --no-kexec', () => {
    const { plan, notes } = resolvePlan(kexec, {
      ...TUTORIAL,
      noKexec: true,
      rebootClassicalTimeoutSec: 120,
    });
    expect(plan.SetDeploymentEnv).toEqual([
      { impl: 'SetDeploymentEnvUntrusted', retries: 0, timeoutSec: 320 },
    ]);
    expect(plan.BootNewEnv).toEqual([
      { impl: 'BootNewEnvClassical', retries: 0, timeoutSec: 320 },
      { impl: 'BootNewEnvHardReboot', retries: 0, timeoutSec: 300 },
    ]);
    expect(notes).toEqual([
      'Using classical reboot instead of kexec (--no-kexec) (SetDeploymentEnv)',
      'Using classical reboot instead of kexec (--no-kexec) (BootNewEnv)',
    ]);
  });

  it('falls back to Classical in BootNewEnv only for a non-linux environment', () => {
    const { plan } = resolvePlan(kexec, { ...TUTORIAL, os: 'xen' });
    expect(plan.SetDeploymentEnv[0]!.impl).toBe('SetDeploymentEnvKexec');
    expect(plan.BootNewEnv[0]).toEqual({ impl: 'BootNewEnvClassical', retries: 0, timeoutSec: 250 });
  });

  it('runs the custom preinstall instance for an environment with a preinstall', () => {
    const plan = parseForceSteps(
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:2:200,SetDeploymentEnvProd:0:100&BroadcastEnv|BroadcastEnvKascade:2:300&BootNewEnv|BootNewEnvClassical:0:150',
    );
    expect(resolvePlan(plan, { ...TUTORIAL, preinstall: true }).plan.SetDeploymentEnv).toEqual([
      { impl: 'SetDeploymentEnvUntrustedCustomPreInstall', retries: 2, timeoutSec: 200 },
    ]);
  });
});

describe('parseBreakpoint', () => {
  const plan = parseForceSteps(
    'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:450&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvClassical:0:400,BootNewEnvHardReboot:0:300',
  );

  it('accepts an implementation with a micro-step, an implementation, or a macro-step', () => {
    expect(parseBreakpoint('BroadcastEnvKastafior:manage_user_post_install', plan, TUTORIAL)).toEqual({
      step: 'BroadcastEnvKastafior',
      micro: 'manage_user_post_install',
    });
    expect(parseBreakpoint('BootNewEnvHardReboot:reboot', plan, TUTORIAL)).toEqual({
      step: 'BootNewEnvHardReboot',
      micro: 'reboot',
    });
    expect(parseBreakpoint('BroadcastEnv', plan, TUTORIAL)).toEqual({ step: 'BroadcastEnv' });
    expect(parseBreakpoint('BroadcastEnv:send_key', plan, TUTORIAL)).toEqual({
      step: 'BroadcastEnv',
      micro: 'send_key',
    });
  });

  it('checks against the plan as it will run, after the Kexec substitution', () => {
    const kexec = parseForceSteps(
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:1:450&BroadcastEnv|BroadcastEnvKastafior:1:1200&BootNewEnv|BootNewEnvKexec:1:250',
    );
    expect(parseBreakpoint('BootNewEnvKexec:kexec', kexec, TUTORIAL)).toEqual({
      step: 'BootNewEnvKexec',
      micro: 'kexec',
    });
    expect(() => parseBreakpoint('BootNewEnvKexec:kexec', kexec, { ...TUTORIAL, noKexec: true })).toThrow(
      "Invalid --breakpoint 'BootNewEnvKexec:kexec': this workflow does not run BootNewEnvKexec",
    );
    expect(
      parseBreakpoint('BootNewEnvClassical:reboot_from_deploy_env', kexec, { ...TUTORIAL, noKexec: true }),
    ).toEqual({
      step: 'BootNewEnvClassical',
      micro: 'reboot_from_deploy_env',
    });
  });

  it.each([
    ['Broadcast Env', 'expected MACRO[:micro], e.g. BroadcastEnvKastafior:manage_user_post_install'],
    [
      'Kastafior',
      "'Kastafior' is neither a macro-step (SetDeploymentEnv, BroadcastEnv, BootNewEnv) nor an implementation",
    ],
    ['BroadcastEnvKascade:send_key', 'this workflow does not run BroadcastEnvKascade'],
    [
      'BroadcastEnvKastafior:manage_user_post_install',
      "the workflow does not run the micro-step 'manage_user_post_install' in BroadcastEnvKastafior (it runs: send_environment, manage_admin_post_install, check_kernel_files, send_key, install_bootloader, sync)",
    ],
  ])('rejects %j: %s', (text, why) => {
    expect(() => parseBreakpoint(text, plan, { ...TUTORIAL, userPostinstall: false })).toThrow(
      `Invalid --breakpoint '${text}': ${why}`,
    );
  });
});
