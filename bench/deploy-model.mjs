#!/usr/bin/env node
// Modelled hardware: deploy the tiny environment on N virtual nodes that take --boot-delay ms to
// boot and whose NICs carry --nic-rate bytes/s, and compare the total time with the modelled
// critical path: the slowest reboot into the deployment environment + one image transfer at the
// NIC rate (the chain broadcast pipelines it) + the reboot into the deployed system. Hardware
// commands (sfdisk, mkfs, mount...) take no time in the model, so the rest is engine overhead.
// Usage: npm run build && node bench/deploy-model.mjs [--nodes 200] [--boot-delay 10000] [--nic-rate 102400] [--keep]
import { statSync } from 'node:fs';
import path from 'node:path';
import { arg, bringUp, deploy, liveChildrenCpu, loadavg, procStats, tearDown } from './lib/deploy-bench.mjs';

const n = Number(arg('nodes', '200'));
const bootDelayMs = Number(arg('boot-delay', '10000'));
const nicRate = Number(arg('nic-rate', String(100 * 1024)));
const keep = process.argv.includes('--keep');

const site = bringUp(n, { bootDelayMs, nicRate });
try {
  const image = statSync(path.join(site.dir, 'images', 'tiny-x64-base-1.0.tgz')).size;
  const transferS = image / nicRate;
  const criticalS = bootDelayMs / 1000 + transferS + bootDelayMs / 1000;
  const load0 = loadavg();
  const e0 = procStats(site.enginePid);
  const d0 = procStats(site.daemonPid);
  const h0 = liveChildrenCpu(site.daemonPid);
  // Timeouts well above the model, so that a slow run shows as slow rather than as retries.
  const steps =
    'SetDeploymentEnv|SetDeploymentEnvUntrusted:0:1200&BroadcastEnv|BroadcastEnvKascade:0:1200&BootNewEnv|BootNewEnvClassical:0:1200';
  const r = deploy(site, steps, [
    '--reboot-classical-timeout',
    String(Math.ceil((3 * bootDelayMs) / 1000) + 60),
  ]);
  const e1 = procStats(site.enginePid);
  const d1 = procStats(site.daemonPid);
  const h1 = liveChildrenCpu(site.daemonPid);
  if (r.ok < n) console.error(r.stdout.slice(-3000), r.stderr.slice(-3000));
  console.log(`nodes ${n}, boot delay ${bootDelayMs} ms, NIC ${nicRate} B/s, image ${image} B`);
  console.log(
    `modelled critical path ${criticalS.toFixed(1)} s (reboot ${bootDelayMs / 1000} + transfer ${transferS.toFixed(1)} + reboot ${bootDelayMs / 1000})`,
  );
  console.log(
    `total ${r.wall.toFixed(1)} s, ratio ${(r.wall / criticalS).toFixed(2)}, overhead ${(r.wall - criticalS).toFixed(1)} s, ok ${r.ok}/${n}`,
  );
  console.log(
    `engine ${(e1.cpu - e0.cpu).toFixed(1)} s CPU / ${e1.peakMiB.toFixed(0)} MiB; daemon ${(d1.cpu - d0.cpu).toFixed(1)} s CPU / ${d1.peakMiB.toFixed(0)} MiB; sandboxes ${(d1.childCpu - d0.childCpu + h1 - h0).toFixed(1)} s CPU; client ${r.client.cpu.toFixed(1)} s CPU / ${r.client.peakMiB.toFixed(0)} MiB`,
  );
  console.log(`load average before ${load0}, after ${loadavg()}`);
} finally {
  tearDown(site, keep);
}
