import {
  chmodSync,
  chownSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KaployError } from '../../common/errors.js';
import type { Store } from '../store/store.js';
import { generateToken, hashToken } from './token.js';

/** Unix user names as useradd accepts them; the name is also used in paths (~NAME). */
export const USER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/;

export function assertUserName(name: string): string {
  if (!USER_RE.test(name)) {
    throw new KaployError(
      'KAPLOY_OPTION',
      `invalid user name '${name}': expected a Unix login (lower-case letters, digits, '_', '.', '-')`,
    );
  }
  return name;
}

export interface EnrolOptions {
  user: string;
  site: string;
  /** Where to write the secret; default ~USER/.kaploy/tokens/<site> (home from the passwd file). */
  out?: string;
  /** uid:gid to chown the file (and the directories created) to. */
  owner?: { uid: number; gid: number };
}

/**
 * Creates or rotates a user's secret and writes it to a mode-600 file (written to a temporary
 * file first, then renamed, so a reader never sees a half-written or wrongly-moded token). The
 * old secret stops working when the store commits.
 */
export function enrolUser(store: Store, opts: EnrolOptions): { file: string } {
  assertUserName(opts.user);
  const file = opts.out ?? defaultTokenFile(opts.user, opts.site);
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (opts.owner) chownSync(dir, opts.owner.uid, opts.owner.gid);
  const token = generateToken();
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  if (opts.owner) chownSync(tmp, opts.owner.uid, opts.owner.gid);
  store.users.setToken(opts.user, hashToken(token));
  renameSync(tmp, file);
  return { file };
}

function defaultTokenFile(user: string, site: string): string {
  const home = user === os.userInfo().username ? os.homedir() : homeOf(user);
  return path.join(home, '.kaploy', 'tokens', site);
}

function homeOf(user: string): string {
  try {
    // No dependency on getent: the passwd file is what useradd writes.
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === user && f[5]) return f[5];
    }
  } catch {
    // fall through
  }
  throw new KaployError('KAPLOY_OPTION', `no home directory found for user '${user}': give --out FILE`);
}
