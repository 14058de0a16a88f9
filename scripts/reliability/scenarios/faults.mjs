// Every testbed fault at every micro-step of every implementation the virtual site can run: one
// deployment per plan (a SetDeploymentEnv, a BroadcastEnv and a BootNewEnv implementation), one
// node per (micro-step, fault) armed before it with `when` matching what that micro-step sends
// (its command line, or the reboot/boot it causes), plus a node without a fault. A node is one
// run; it passes when its outcome is final, a node reported OK really runs the environment from
// its deploy partition, a KO node names its step and reason, and the fault-free node is OK.
// Short: the site's default plan only.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pMap from 'p-map';
import { EXIT_CODES, installedWith, settle } from '../lib/checks.mjs';
import { withSite } from '../lib/site.mjs';

const COMMAND_FAULTS = ['hang', 'drop_connection', 'slow_disk', 'corrupt_disk', 'power_loss'];
const BOOT_FAULTS = ['no_reboot', 'slow_boot', 'hang', 'power_loss'];

/** What each micro-step sends a node, as a fault's `when`, and the faults that can fire on it. */
const TRIGGERS = {
  reboot: { when: 'reboot', kinds: BOOT_FAULTS },
  wait_reboot: { when: 'boot', kinds: BOOT_FAULTS },
  create_partition_table: { when: '^sfdisk ', kinds: COMMAND_FAULTS },
  format_deploy_part: { when: '^mkfs .*sda3', kinds: COMMAND_FAULTS },
  format_swap_part: { when: '^mkswap ', kinds: COMMAND_FAULTS },
  mount_deploy_part: { when: '^mount ', kinds: COMMAND_FAULTS },
  send_environment: { when: 'kaploy-relay|tar -C|gzip -cd', kinds: COMMAND_FAULTS },
  check_kernel_files: { when: '^test -f ', kinds: COMMAND_FAULTS },
  install_bootloader: { when: 'grub-install', kinds: COMMAND_FAULTS },
  sync: { when: '^sync$', kinds: COMMAND_FAULTS },
  umount_deploy_part: { when: '^umount ', kinds: COMMAND_FAULTS },
  kexec: { when: '^kexec', kinds: [...COMMAND_FAULTS, 'no_reboot', 'slow_boot'] },
  reboot_from_deploy_env: {
    when: '^reboot$',
    kinds: ['hang', 'power_loss', 'no_reboot', 'slow_boot', 'drop_connection'],
  },
};

/** Micro-steps each plan runs (tiny-x64-base, no -k, no -r), in order; a trigger fires at its first match. */
const PLANS = [
  // SetDeploymentEnvProd deploys from the running production: first, on the fresh site's nodes.
  {
    steps:
      'SetDeploymentEnv|SetDeploymentEnvProd:0:15&BroadcastEnv|BroadcastEnvTree:0:25&BootNewEnv|BootNewEnvClassical:0:15',
    micro: [
      'format_deploy_part',
      'mount_deploy_part',
      'send_environment',
      'install_bootloader',
      'sync',
      'umount_deploy_part',
    ],
  },
  {
    steps:
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:0:15&BroadcastEnv|BroadcastEnvKastafior:0:25&BootNewEnv|BootNewEnvClassical:0:15',
    micro: [
      'reboot',
      'wait_reboot',
      'create_partition_table',
      'format_deploy_part',
      'mount_deploy_part',
      'format_swap_part',
      'send_environment',
      'check_kernel_files',
      'install_bootloader',
      'sync',
      'umount_deploy_part',
      'reboot_from_deploy_env',
    ],
  },
  {
    steps:
      'SetDeploymentEnv|SetDeploymentEnvNfsroot:0:15&BroadcastEnv|BroadcastEnvChain:0:25&BootNewEnv|BootNewEnvHardReboot:0:15',
    micro: [
      'reboot',
      'wait_reboot',
      'create_partition_table',
      'format_deploy_part',
      'mount_deploy_part',
      'format_swap_part',
      'send_environment',
      'check_kernel_files',
      'install_bootloader',
      'sync',
    ],
  },
  {
    steps:
      'SetDeploymentEnv|SetDeploymentEnvUntrusted:0:15&BroadcastEnv|BroadcastEnvKascade:0:25&BootNewEnv|BootNewEnvKexec:0:15',
    micro: [
      'create_partition_table',
      'send_environment',
      'check_kernel_files',
      'install_bootloader',
      'umount_deploy_part',
      'kexec',
    ],
  },
];

const faultOf = (kind, when) => {
  const f = { kind, when, times: 1 };
  if (kind === 'slow_boot') f.extraMs = 1500;
  if (kind === 'slow_disk') f.bytesPerSec = 200_000;
  if (kind === 'drop_connection') f.afterBytes = 1000;
  return f;
};

async function onePlan(site, plan, p, signal, log) {
  const cases = [];
  for (const micro of plan.micro) for (const kind of TRIGGERS[micro].kinds) cases.push({ micro, kind });
  const nodes = site.nodes.slice(0, cases.length + 1);
  for (const n of nodes) await site.fault(n, 'clear');
  await Promise.all(cases.map((c, i) => site.fault(nodes[i], faultOf(c.kind, TRIGGERS[c.micro].when))));
  // One deployment per node: a hung node holds its whole macro-step until its timeout (Kadeploy's
  // rule), which would fail every node deployed with it; here each fault meets only its node.
  const results = await pMap(
    nodes,
    async (n, i) => {
      const widFile = path.join(site.dir, `faults-wid-${p}-${i}`);
      const r = await site.run('kadeploy3', [
        '-e',
        'tiny-x64-base',
        '-u',
        'deploy',
        '-m',
        n,
        '-V',
        '0',
        '--force-steps',
        plan.steps,
        '--write-workflow-id',
        widFile,
      ]);
      const c = site.client();
      try {
        const wid = readFileSync(widFile, 'utf8').trim();
        const st = await c.request('GET', `/deployment/${wid}`);
        return { code: r.code, outcome: (st.outcomes ?? []).find((o) => o.node === n) };
      } catch (e) {
        log(`${n}: exit ${r.code}, no status (${e.message}):\n${r.stdout}${r.stderr}`);
        return { code: r.code, outcome: undefined };
      } finally {
        await c.close();
      }
    },
    { concurrency: 20, signal },
  );
  const statuses = await site.status();
  const outcomes = new Map(nodes.map((n, i) => [n, results[i].outcome]));
  let passed = 0;
  let unfired = 0;
  let internal = 0;
  const bad = [];
  nodes.forEach((n, i) => {
    const o = outcomes.get(n);
    if (!EXIT_CODES.has(results[i].code)) internal++;
    const what = i < cases.length ? `${cases[i].kind}@${cases[i].micro}` : 'no fault';
    if (i < cases.length && (statuses.find((s) => s.name === n)?.faults.length ?? 0) > 0) unfired++;
    let ok = false;
    if (o?.status === 'ok') ok = installedWith(site, statuses, n, 'tiny-x64-base');
    else if (o?.status === 'ko') ok = i < cases.length && typeof o.reason === 'string' && o.reason.length > 0;
    if (ok) passed++;
    else bad.push(`${what}: ${o ? `${o.status} ${o.micro ?? ''} ${o.reason ?? ''}` : 'no outcome'}`);
  });
  for (const b of bad) log(`plan ${p}: ${b}`);
  const kos = [...outcomes.values()].filter((o) => o?.status === 'ko').length;
  log(`plan ${p} (${plan.steps}): ${nodes.length} nodes, ${kos} KO, ${unfired} faults not fired`);
  for (const n of nodes) await site.fault(n, 'clear');
  // Nodes a fault left off or hung are powered on again for the next plan.
  await Promise.all(
    nodes.map((n) => site.run('kapower3', ['--on', '-m', n], { user: 'kaadmin' }).catch(() => undefined)),
  );
  return {
    runs: nodes.length,
    passed,
    internal,
    unfired,
    bad,
  };
}

export default {
  name: 'faults',
  async run({ short, signal, log }) {
    const plans = short ? PLANS.filter((p) => p.steps.includes('Kastafior')) : PLANS;
    const most = Math.max(
      ...plans.map((pl) => pl.micro.reduce((a, m) => a + TRIGGERS[m].kinds.length, 0) + 1),
    );
    return withSite({ nodes: most, site: 'relfault', signal }, async (site) => {
      const t = { runs: 0, passed: 0, internal: 0, unfired: 0, bad: [] };
      for (const [p, plan] of plans.entries()) {
        const r = await onePlan(site, plan, p, signal, log);
        for (const k of ['runs', 'passed', 'internal', 'unfired']) t[k] += r[k];
        t.bad.push(...r.bad);
        site.sample();
      }
      const stuck = await settle(site, { signal });
      return {
        runs: t.runs,
        passed: t.passed,
        dataLost: 0,
        stuckNodes: stuck.length,
        internalErrors: t.internal + site.internalErrors(),
        enginePeakMiB: site.sample(),
        notes: `${plans.length} plan(s), ${t.runs} nodes (one fault each, one without); ${t.unfired} faults never fired${
          t.bad.length ? `; ${t.bad.slice(0, 2).join('; ')}` : ''
        }`,
      };
    });
  },
};
