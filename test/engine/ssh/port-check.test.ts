import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isPortOpen } from '../../../src/engine/net/port-check.js';

async function listening(): Promise<{ port: number; close: () => Promise<void> }> {
  const s = createServer((c) => c.destroy());
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  return {
    port: typeof a === 'object' && a ? a.port : 0,
    close: () => new Promise((r) => s.close(() => r())),
  };
}

describe('isPortOpen', () => {
  it('is true for a listening port and false once it is closed', async () => {
    const s = await listening();
    expect(await isPortOpen('127.0.0.1', s.port, 2000)).toBe(true);
    await s.close();
    expect(await isPortOpen('127.0.0.1', s.port, 2000)).toBe(false);
  });

  it('is false for a name that does not resolve', async () => {
    expect(await isPortOpen('no-such-host.invalid', 22, 2000)).toBe(false);
  });

  it('rejects when aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(isPortOpen('127.0.0.1', 22, 2000, ac.signal)).rejects.toMatchObject({
      code: 'KAPLOY_EXECUTE',
    });
  });

  it('refuses bad arguments', async () => {
    await expect(isPortOpen('', 22, 1000)).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
    await expect(isPortOpen('a b', 22, 1000)).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
    await expect(isPortOpen('127.0.0.1', 0, 1000)).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
    await expect(isPortOpen('127.0.0.1', 65536, 1000)).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
    await expect(isPortOpen('127.0.0.1', 22, 0)).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
    await expect(isPortOpen('127.0.0.1', 22, 2 ** 31)).rejects.toMatchObject({ code: 'KAPLOY_OPTION' });
  });
});
