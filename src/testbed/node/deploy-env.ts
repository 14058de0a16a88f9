import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The deployment environment is RAM-booted: its writable directories (deployenv/etc, root, tmp,
 * mnt) start afresh at each boot, with the engine's key authorised for root and /mnt/dest ready
 * as the deploy partition's mount point (as in Kadeploy's deployment environment).
 */
export async function prepareDeployEnv(dir: string, hostname: string, engineKey: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'etc'), { recursive: true });
  await mkdir(join(dir, 'root/.ssh'), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, 'tmp'), { recursive: true });
  await chmod(join(dir, 'tmp'), 0o1777);
  await mkdir(join(dir, 'mnt/dest'), { recursive: true });
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\n');
  await writeFile(join(dir, 'etc/hostname'), `${hostname}\n`);
  await writeFile(join(dir, 'etc/hosts'), `127.0.0.1 localhost\n`);
  await writeFile(join(dir, 'root/.ssh/authorized_keys'), `${engineKey.trim()}\n`, { mode: 0o600 });
}
