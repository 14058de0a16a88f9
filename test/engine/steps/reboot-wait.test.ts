import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { createStepTable } from '../../../src/engine/steps/index.js';
import { ipHex } from '../../../src/formats/pxe-profile.js';
import { runSteps } from './helpers/run-steps.js';
import { stepCtx } from './helpers/site.js';
import { FAST, specFor } from './helpers/spec.js';
import { startVSite, type VSite } from './helpers/vsite.js';

describe('switch_pxe, reboot and wait_reboot on virtual nodes', () => {
  let v: VSite;
  beforeAll(async () => {
    v = await startVSite({ n: 2 });
  });
  afterAll(async () => {
    await v?.close();
  });

  it('switch_pxe writes each node profile, named by its address in hex', async ({ signal }) => {
    const ex = createStepTable(specFor(v), { pool: v.pool, logger: silentLogger, tuning: FAST });
    const r1 = await ex.switch_pxe(
      v.names,
      stepCtx('SetDeploymentEnv', 'SetDeploymentEnvUntrusted', 'switch_pxe', signal),
    );
    expect([...r1.values()]).toEqual([{ ok: true }, { ok: true }]);
    const addr = v.site.clusters[0]?.nodes[1]?.address as string;
    const file = path.join(v.site.bootDir, ipHex(addr));
    const deploy = await readFile(file, 'utf8');
    expect(deploy).toContain(
      '  KERNEL kaploy/deploy-vmlinuz\n  APPEND initrd=kaploy/deploy-initrd.img console=ttyS0\n',
    );
    await ex.switch_pxe(v.names, stepCtx('BootNewEnv', 'BootNewEnvClassical', 'switch_pxe', signal));
    expect(await readFile(file, 'utf8')).toContain('  COM32 chain.c32\n  APPEND hd0 3\n');
  });

  it('waits for the deployment environment (marker open), then for the deployed system (marker closed)', async ({
    signal,
  }) => {
    const ex = createStepTable(specFor(v), { pool: v.pool, logger: silentLogger, tuning: FAST });
    const r = await runSteps(
      ex,
      v.names,
      [['SetDeploymentEnv', 'SetDeploymentEnvUntrusted', ['switch_pxe', 'reboot', 'wait_reboot']]],
      signal,
    );
    expect([...r.values()]).toEqual([{ ok: true }, { ok: true }]);
    expect(v.nodes.map((n) => n.status().state)).toEqual(['deploy_env', 'deploy_env']);
    // Booting the production partition again: wait_reboot of BootNewEnv wants the marker closed.
    const prod = createStepTable(specFor(v, { partition: 2 }), {
      pool: v.pool,
      logger: silentLogger,
      tuning: FAST,
    });
    const b = await runSteps(
      prod,
      v.names,
      [['BootNewEnv', 'BootNewEnvHardReboot', ['switch_pxe', 'reboot', 'wait_reboot']]],
      signal,
    );
    expect([...b.values()]).toEqual([{ ok: true }, { ok: true }]);
    expect(v.nodes.map((n) => n.status().state)).toEqual(['production', 'production']);
  });

  it('escalates to a hard reboot when the BMC ignores soft reboots', async ({ signal }) => {
    v.ignoredLevels.add('soft');
    try {
      v.bmcCalls.length = 0;
      const ex = createStepTable(specFor(v, { rebootClassicalTimeout: '1' }), {
        pool: v.pool,
        logger: silentLogger,
        tuning: FAST,
      });
      const r = await runSteps(
        ex,
        v.names,
        [['SetDeploymentEnv', 'SetDeploymentEnvUntrusted', ['switch_pxe', 'reboot', 'wait_reboot']]],
        signal,
      );
      expect([...r.values()]).toEqual([{ ok: true }, { ok: true }]);
      expect(v.bmcCalls.filter((c) => c.includes(v.names[0] as string))).toEqual([
        `POST /nodes/${v.names[0]}/reboot?level=soft`,
        `POST /nodes/${v.names[0]}/reboot?level=hard`,
      ]);
      expect(v.nodes.map((n) => n.status().state)).toEqual(['deploy_env', 'deploy_env']);
    } finally {
      v.ignoredLevels.clear();
    }
  });

  it('fails with the missing level once the configured levels are exhausted', async ({ signal }) => {
    // Production first, so that an ignored reboot leaves the node visibly not in the deployment env.
    const prod = createStepTable(specFor(v, { partition: 2 }), {
      pool: v.pool,
      logger: silentLogger,
      tuning: FAST,
    });
    await runSteps(
      prod,
      v.names,
      [['BootNewEnv', 'BootNewEnvHardReboot', ['switch_pxe', 'reboot', 'wait_reboot']]],
      signal,
    );
    expect(v.nodes.map((n) => n.status().state)).toEqual(['production', 'production']);
    const site = structuredClone(v.site);
    delete site.clusters[0]?.commands.reboot.very_hard;
    v.ignoredLevels.add('soft');
    v.ignoredLevels.add('hard');
    try {
      const ex = createStepTable(specFor(v, { site, rebootClassicalTimeout: '1' }), {
        pool: v.pool,
        logger: silentLogger,
        tuning: FAST,
      });
      const r = await runSteps(
        ex,
        v.names,
        [['SetDeploymentEnv', 'SetDeploymentEnvUntrusted', ['switch_pxe', 'reboot', 'wait_reboot']]],
        signal,
      );
      for (const n of v.names) {
        expect(r.get(n)).toEqual({
          ok: false,
          reason: 'not back after a hard reboot within 1s; very_hard_reboot command is not provided',
          at: 'SetDeploymentEnvUntrusted-wait_reboot',
        });
      }
    } finally {
      v.ignoredLevels.clear();
    }
  });
});
