import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/common/logger.js';
import { createStepTable } from '../../../src/engine/steps/index.js';
import { BROADCAST_TAR, runSteps, UNTRUSTED } from './helpers/run-steps.js';
import { FAST, specFor } from './helpers/spec.js';
import { startVSite, type VSite } from './helpers/vsite.js';

describe('kexec and production-based implementations on 2 virtual nodes', () => {
  let v: VSite;
  beforeAll(async () => {
    v = await startVSite({ n: 2, pinHostKeys: true });
    // The deployment kernel as the TFTP server holds it (the parent of pxelinux.cfg).
    const tftp = path.dirname(v.site.bootDir);
    const d = v.site.clusters[0]?.deployEnv;
    await mkdir(path.join(tftp, 'kaploy'), { recursive: true });
    await writeFile(path.join(tftp, d?.kernel as string), 'deploy kernel\n');
    await writeFile(path.join(tftp, d?.initrd as string), 'deploy initrd\n');
  });
  afterAll(async () => {
    await v?.close();
  });

  it('check_nodes accepts nodes running production and refuses the deployment environment', async ({
    signal,
  }) => {
    const ex = createStepTable(specFor(v), { pool: v.pool, logger: silentLogger, tuning: FAST });
    // Nodes start booting production: wait for it as BootNewEnv would.
    await runSteps(ex, v.names, [['BootNewEnv', 'BootNewEnvClassical', ['wait_reboot']]], signal);
    const ok = await runSteps(
      ex,
      v.names,
      [['SetDeploymentEnv', 'SetDeploymentEnvProd', ['check_nodes']]],
      signal,
    );
    expect([...ok.values()]).toEqual([{ ok: true }, { ok: true }]);
  });

  it('SetDeploymentEnvKexec boots the deployment environment from production, BootNewEnvKexec the deployed system', async ({
    signal,
  }) => {
    const ex = createStepTable(specFor(v), { pool: v.pool, logger: silentLogger, tuning: FAST });
    const r = await runSteps(
      ex,
      v.names,
      [
        [
          'SetDeploymentEnv',
          'SetDeploymentEnvKexec',
          ['send_deployment_kernel', 'sync', 'kexec', 'wait_reboot', ...UNTRUSTED.slice(3)],
        ],
        ['BroadcastEnv', 'BroadcastEnvKastafior', BROADCAST_TAR],
      ],
      signal,
    );
    expect([...r.values()]).toEqual([{ ok: true }, { ok: true }]);
    const bad = await runSteps(
      ex,
      v.names,
      [['SetDeploymentEnv', 'SetDeploymentEnvProd', ['check_nodes']]],
      signal,
    );
    expect(bad.get(v.names[0] as string)).toMatchObject({
      ok: false,
      reason: 'the node runs the deployment environment, not an installed system',
    });
    const b = await runSteps(
      ex,
      v.names,
      [
        [
          'BootNewEnv',
          'BootNewEnvKexec',
          ['switch_pxe', 'umount_deploy_part', 'mount_deploy_part', 'kexec', 'wait_reboot'],
        ],
      ],
      signal,
    );
    expect([...b.values()]).toEqual([{ ok: true }, { ok: true }]);
    expect(v.nodes.map((n) => n.status())).toMatchObject([
      { state: 'installed', bootedPartition: 3 },
      { state: 'installed', bootedPartition: 3 },
    ]);
  });

  it('set_vlan fails clearly when a VLAN is asked', async ({ signal }) => {
    const ex = createStepTable(specFor(v, { vlan: '12' }), {
      pool: v.pool,
      logger: silentLogger,
      tuning: FAST,
    });
    const r = await runSteps(ex, v.names, [['BootNewEnv', 'BootNewEnvClassical', ['set_vlan']]], signal);
    expect(r.get(v.names[0] as string)).toEqual({
      ok: false,
      reason: 'VLAN 12 requested but VLAN switching is not supported on this site',
      at: 'BootNewEnvClassical-set_vlan',
    });
  });
});
