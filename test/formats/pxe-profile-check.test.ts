import { describe, expect, it } from 'vitest';
import { checkPxeProfile } from '../../src/formats/pxe-profile-check.js';

describe('PXE profile check', () => {
  it('understands the three boot targets', () => {
    expect(
      checkPxeProfile(
        'DEFAULT a\nLABEL a\n LINUX deploy/vmlinuz\n APPEND initrd=deploy/initrd.img console=ttyS0\n',
      ),
    ).toEqual({
      kind: 'deploy_env',
      kernel: 'deploy/vmlinuz',
      initrd: 'deploy/initrd.img',
      params: 'console=ttyS0',
    });
    expect(checkPxeProfile('LABEL a\n COM32 chain.c32\n APPEND hd0 3\n')).toEqual({
      kind: 'local',
      partition: 3,
    });
    expect(checkPxeProfile('LABEL a\n LOCALBOOT 0\n')).toEqual({ kind: 'localboot' });
  });
  it('refuses absolute paths, other COM32 modules, a kernel without initrd', () => {
    expect(() => checkPxeProfile('KERNEL /boot/vmlinuz\nAPPEND initrd=i\n')).toThrow(
      /relative to the TFTP root/,
    );
    expect(() => checkPxeProfile('COM32 menu.c32\n')).toThrow(/only COM32 chain.c32/);
    expect(() => checkPxeProfile('KERNEL k\n')).toThrow(/no initrd/);
  });
});
