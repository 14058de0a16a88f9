import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import type { EnvironmentSpec } from '../../../src/engine/steps/index.js';
import { createStepTable } from '../../../src/engine/steps/index.js';
import {
  BROADCAST_DD,
  BROADCAST_TAR,
  CLASSICAL,
  runSteps,
  UNTRUSTED,
  UNTRUSTED_DD,
} from './helpers/run-steps.js';
import { FAST, specFor, tinyEnv } from './helpers/spec.js';
import { deployPartDir, startVSite, type VSite } from './helpers/vsite.js';

describe('every image kind and compression, deployed and booted on 2 virtual nodes', () => {
  let v: VSite;
  beforeAll(async () => {
    v = await startVSite({ n: 2 });
  });
  afterAll(async () => {
    await v?.close();
  });

  const cases: [string, (v: VSite) => EnvironmentSpec['image']][] = [
    ['tar gzip', (v) => ({ path: v.images.tinyTgz, kind: 'tar', compression: 'gzip', md5: '' })],
    ['tar bzip2', (v) => ({ path: v.images.tinyTbz2, kind: 'tar', compression: 'bzip2', md5: '' })],
    ['tar xz', (v) => ({ path: v.images.tinyTxz, kind: 'tar', compression: 'xz', md5: '' })],
    ['tar zstd', (v) => ({ path: v.images.tinyTzst, kind: 'tar', compression: 'zstd', md5: '' })],
    ['dd gzip', (v) => ({ path: v.images.tinyDdGz, kind: 'dd', compression: 'gzip', md5: '' })],
  ];

  for (const [name, image] of cases) {
    it(`${name}: BroadcastEnvChain writes it, the nodes boot it`, async ({ signal }) => {
      const img = image(v);
      const dd = img.kind === 'dd';
      const ex = createStepTable(
        specFor(v, { env: tinyEnv(v, { image: img, ...(dd ? { filesystem: 'ext2' } : {}) }) }),
        {
          pool: v.pool,
          logger: silentLogger,
          tuning: FAST,
        },
      );
      const res = await runSteps(
        ex,
        v.names,
        [
          ['SetDeploymentEnv', 'SetDeploymentEnvUntrusted', dd ? UNTRUSTED_DD : UNTRUSTED],
          ['BroadcastEnv', 'BroadcastEnvChain', dd ? BROADCAST_DD : BROADCAST_TAR],
          ['BootNewEnv', 'BootNewEnvClassical', CLASSICAL],
        ],
        signal,
      );
      expect(Object.fromEntries(res)).toEqual(Object.fromEntries(v.names.map((n) => [n, { ok: true }])));
      for (let i = 0; i < v.names.length; i++) {
        expect(await readFile(path.join(deployPartDir(v, i), 'etc/hostname'), 'utf8')).toContain('tiny');
        expect(v.nodes[i]?.status()).toMatchObject({ state: 'installed', bootedPartition: 3 });
      }
    });
  }
});
