import { describe, expect, it } from 'vitest';
import { checkRebootRequest, parseRebootKind } from '../../../src/api/reboot-request.js';
import { createEscapeFilter } from '../../../src/client/nodeops/escape-filter.js';

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
