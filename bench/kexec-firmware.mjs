#!/usr/bin/env node
// Firmware time and kexec: deploy the tiny environment on N virtual nodes whose every reset and
// power-on costs --firmware-delay ms of modelled POST (kexec skips it, as on real machines), once
// with BootNewEnvClassical and once with BootNewEnvKexec, and print each BootNewEnv's duration as
// the engine logs it ("End of step Deploy[...] after Ns").
// Usage: npm run build && node bench/kexec-firmware.mjs [--nodes 4] [--boot-delay 2000] [--firmware-delay 8000] [--keep]
import { rmSync } from 'node:fs';
import path from 'node:path';
import { arg, bringUp, deploy, tearDown } from './lib/deploy-bench.mjs';

const n = Number(arg('nodes', '4'));
const bootDelayMs = Number(arg('boot-delay', '2000'));
const firmwareDelayMs = Number(arg('firmware-delay', '8000'));
const keep = process.argv.includes('--keep');

const bootNewEnv = (stdout, impl) => {
  const m = new RegExp(`End of step Deploy\\[${impl}\\] after (\\d+)s`).exec(stdout);
  return m ? Number(m[1]) : Number.NaN;
};

const site = bringUp(n, { bootDelayMs, firmwareDelayMs });
try {
  console.log(`nodes ${n}, boot delay ${bootDelayMs} ms, firmware delay ${firmwareDelayMs} ms`);
  for (const impl of ['BootNewEnvClassical', 'BootNewEnvKexec']) {
    const steps = `SetDeploymentEnv|SetDeploymentEnvUntrusted:0:600&BroadcastEnv|BroadcastEnvKastafior:0:600&BootNewEnv|${impl}:0:600`;
    rmSync(path.join(site.dir, 'ok'), { force: true }); // -o appends, as Kadeploy's does
    const r = deploy(site, steps, ['-V', '1']);
    if (r.ok < n) console.error(r.stdout.slice(-3000), r.stderr.slice(-3000));
    console.log(
      `${impl}: BootNewEnv ${bootNewEnv(r.stdout, impl)} s, whole deployment ${r.wall.toFixed(1)} s, ok ${r.ok}/${n}`,
    );
  }
} finally {
  tearDown(site, keep);
}
