import { describe, expect, it } from 'vitest';
import { ipHex, parseProfile, profileFileName, renderProfile } from '../../src/formats/pxe-profile.js';

describe('PXE profiles', () => {
  it('names files after the IP in upper-case hex like pxelinux', () => {
    expect(ipHex('192.168.0.10')).toBe('C0A8000A');
    expect(profileFileName('ip_hex', { name: 'n', address: '127.1.0.5' })).toBe('7F010005');
    expect(profileFileName('hostname', { name: 'n-1.s', address: '127.1.0.5' })).toBe('n-1.s');
  });
  it('round-trips each boot target', () => {
    const targets = [
      { kind: 'deploy_env', kernel: 'deploy/vmlinuz', initrd: 'deploy/initrd.img', params: 'console=ttyS0' },
      { kind: 'local', partition: 3 },
      { kind: 'localboot' },
    ] as const;
    for (const t of targets) expect(parseProfile(renderProfile(t, 'comment'))).toEqual(t);
  });
  it('returns undefined for a profile it cannot boot', () => {
    expect(parseProfile('# nothing\n')).toBeUndefined();
  });
});
