import { describe, expect, it } from 'vitest';
import { checkRebootRequest, parseRebootKind } from '../../../src/api/reboot-request.js';
import { createEscapeFilter } from '../../../src/client/nodeops/escape-filter.js';
import { checkPxeProfile } from '../../../src/formats/pxe-profile-check.js';

describe('the console escape sequence', () => {
  const run = (...chunks: string[]) => {
    const f = createEscapeFilter();
    let sent = '';
    for (const c of chunks) {
      const r = f(Buffer.from(c));
      sent += r.send.toString();
      if (r.leave) return { sent, leave: true };
    }
    return { sent, leave: false };
  };
  it('~. at the start of a line leaves, even typed one key at a time', () => {
    expect(run('ls\r', '~', '.')).toEqual({ sent: 'ls\r', leave: true });
    expect(run('~.')).toEqual({ sent: '', leave: true });
  });
  it('~ elsewhere, ~~ and ~x pass through', () => {
    expect(run('a~.')).toEqual({ sent: 'a~.', leave: false });
    expect(run('~~.')).toEqual({ sent: '~.', leave: false });
    expect(run('~x')).toEqual({ sent: '~x', leave: false });
  });
});

describe('reboot request checks', () => {
  it('accepts the 3.1 kind names', () => {
    expect(parseRebootKind('simple_reboot')).toBe('simple');
    expect(parseRebootKind('env_recorded')).toBe('recorded_env');
    expect(
      checkRebootRequest({
        kind: 'env_recorded' as never,
        nodes: ['n'],
        environment: { name: 'e' },
        partition: 2,
      }).kind,
    ).toBe('recorded_env');
  });
  it('refuses -k, -w outside their kinds', () => {
    expect(() => checkRebootRequest({ kind: 'simple', nodes: ['n'], keys: 'ssh-ed25519 AAAA' })).toThrow(
      /-k\/--key is only for the deploy_env/,
    );
    expect(() => checkRebootRequest({ kind: 'deploy_env', nodes: ['n'], pxeProfile: 'LOCALBOOT 0' })).toThrow(
      /-w\/--set-pxe-profile is only for the set_pxe/,
    );
  });
});

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
