import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
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
import { assertUserName } from '../../formats/user-name.js';
import type { Store } from '../store/store.js';
import { generateToken, hashToken } from './token.js';

export interface EnrolOptions {
  user: string;
  site: string;
  /** Where to write the secret; default ~USER/.kaploy/tokens/<site> (home from the passwd file). */
  out?: string;
  /** uid:gid to chown the file (and the directories created) to. */
  owner?: { uid: number; gid: number };
  /** Where users' homes are looked up (tests); default /etc/passwd. */
  passwdFile?: string;
}

/**
 * Creates or rotates a user's secret and writes it to a mode-600 file (written to a temporary
 * file first, then renamed, so a reader never sees a half-written or wrongly-moded token). The
 * old secret stops working when the store commits. Written into another user's home by default,
 * the file and the directories created for it belong to that user (from the passwd file).
 */
export function enrolUser(store: Store, opts: EnrolOptions): { file: string } {
  assertUserName(opts.user);
  let file = opts.out;
  let owner = opts.owner;
  if (file === undefined) {
    const me = os.userInfo();
    const pw =
      opts.user === me.username
        ? { home: os.homedir(), uid: me.uid, gid: me.gid }
        : passwdEntry(opts.user, opts.passwdFile);
    file = path.join(pw.home, '.kaploy', 'tokens', opts.site);
    if (owner === undefined && pw.uid !== me.uid) owner = { uid: pw.uid, gid: pw.gid };
  }
  for (const d of mkdirs(path.dirname(file))) if (owner) chownSync(d, owner.uid, owner.gid);
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
  if (owner) chownSync(tmp, owner.uid, owner.gid);
  store.users.setToken(opts.user, hashToken(token));
  renameSync(tmp, file);
  return { file };
}

/** mkdir -p with mode 700; returns the directories it created (outermost first). */
function mkdirs(dir: string): string[] {
  const created: string[] = [];
  for (let d = dir; !existsSync(d); d = path.dirname(d)) created.unshift(d);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return created;
}

function passwdEntry(user: string, passwdFile = '/etc/passwd'): { home: string; uid: number; gid: number } {
  try {
    // No dependency on getent: the passwd file is what useradd writes.
    for (const line of readFileSync(passwdFile, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === user && f[5]) return { home: f[5], uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // fall through
  }
  throw new KaployError('KAPLOY_OPTION', `no home directory found for user '${user}': give --out FILE`);
}
