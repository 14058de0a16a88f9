import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { createStepTable } from '../../../src/engine/steps/index.js';
import { BROADCAST_TAR, CLASSICAL, runSteps, UNTRUSTED } from './helpers/run-steps.js';
import { FAST, specFor, tinyEnv } from './helpers/spec.js';
import { deployPartDir, startVSite, type VSite } from './helpers/vsite.js';

const USER_KEYS =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbQm0Yy3m5t8zLhN2c9vKq1x6f0u8o2Wn3pQk4r5s6t alice@frontend\n';

describe('SetDeploymentEnvUntrusted + BroadcastEnvKascade + BootNewEnvClassical on 3 virtual nodes', () => {
  let v: VSite;
  beforeAll(async () => {
    v = await startVSite({ n: 3 });
  });
  afterAll(async () => {
    await v?.close();
  });

  it('deploys the tiny environment with keys and a postinstall, and the nodes boot it', async ({
    signal,
  }) => {
    const env = tinyEnv(v, {
      postinstalls: [{ path: v.images.postinstallTgz, compression: 'gzip', script: './traces.sh' }],
    });
    const debug: string[] = [];
    const ex = createStepTable(specFor(v, { env, keys: USER_KEYS }), {
      pool: v.pool,
      logger: silentLogger,
      tuning: FAST,
    });
    const res = await runSteps(
      ex,
      v.names,
      [
        ['SetDeploymentEnv', 'SetDeploymentEnvUntrusted', UNTRUSTED],
        ['BroadcastEnv', 'BroadcastEnvKascade', BROADCAST_TAR],
        ['BootNewEnv', 'BootNewEnvClassical', CLASSICAL],
      ],
      signal,
      debug,
    );
    expect(Object.fromEntries(res)).toEqual(Object.fromEntries(v.names.map((n) => [n, { ok: true }])));
    for (let i = 0; i < 3; i++) {
      const part = deployPartDir(v, i);
      expect(await readFile(path.join(part, 'etc/hostname'), 'utf8')).toContain('tiny');
      expect(await readFile(path.join(part, 'root/.ssh/authorized_keys'), 'utf8')).toBe(USER_KEYS);
      const vars = await readFile(path.join(part, 'root/kadeploy-postinstall.env'), 'utf8');
      expect(vars).toContain('KADEPLOY_ENV=tiny-x64-base\n');
      expect(vars).toContain('KADEPLOY_DEPLOY_PART=/dev/sda3\n');
      expect(vars).toContain(`KADEPLOY_NODE=${v.names[i]}\n`);
      expect(vars).toContain('KADEPLOY_ENV_EXTRACTION_DIR=/mnt/dest\n');
      expect(await readFile(path.join(part, 'boot/grub/grub.cfg'), 'utf8')).toContain(
        'linux /boot/vmlinuz root=/dev/sda3 ro',
      );
      const st = v.nodes[i]?.status();
      expect(st?.state).toBe('installed');
      expect(st?.bootedPartition).toBe(3);
    }
  });
});
