import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/engine/store/store.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kaploy-store-modes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mode = (f: string) => statSync(f).mode & 0o777;

describe('the store is readable by its owner only', () => {
  it('a new store: directory 0700, database, -wal and -shm 0600, whatever the umask', () => {
    const data = path.join(dir, 'open', 'data');
    const old = process.umask(0o000);
    try {
      const store = openStore(path.join(data, 'kaploy.sqlite'));
      // A write makes SQLite create the WAL files, with the database's mode.
      store.users.setToken('alice', 'a'.repeat(64));
      const file = path.join(data, 'kaploy.sqlite');
      expect(mode(data)).toBe(0o700);
      expect(mode(file)).toBe(0o600);
      expect(mode(`${file}-wal`)).toBe(0o600);
      expect(mode(`${file}-shm`)).toBe(0o600);
      store.close();
    } finally {
      process.umask(old);
    }
  });

  it('a store left world-readable by an earlier version is tightened when opened', () => {
    const data = path.join(dir, 'loose');
    mkdirSync(data);
    const first = openStore(path.join(data, 'kaploy.sqlite'));
    first.close();
    const file = path.join(data, 'kaploy.sqlite');
    chmodSync(data, 0o755);
    chmodSync(file, 0o644);
    // The directory is the admin's: left as it is (it may hold other things); the files are tightened.
    writeFileSync(`${file}-wal`, '');
    chmodSync(`${file}-wal`, 0o644);
    const again = openStore(file);
    expect([mode(data), mode(file), mode(`${file}-wal`)]).toEqual([0o755, 0o600, 0o600]);
    again.close();
  });

  it('an in-memory store touches no file', () => {
    const before = process.cwd();
    const store = openStore(':memory:');
    store.close();
    expect(existsSync(path.join(before, ':memory:'))).toBe(false);
  });
});
