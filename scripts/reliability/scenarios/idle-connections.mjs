// 20,000 idle TCP connections (short: 2,000) that send nothing, held by two processes, once from
// one address and once spread over 100 addresses, against a virtual site's engine. A run passes
// when another address is answered 10/10 once header_timeout closed the flood (and, for the
// one-address flood, during it too: max_connections_per_address), and the engine is still the
// same process afterwards.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { probe } from '../../../bench/lib/idle-flood.mjs';
import { withSite } from '../lib/site.mjs';

const child = path.join(import.meta.dirname, '..', 'lib', 'flood-child.mjs');

async function floodRun(site, port, addresses, n, signal) {
  const half = Math.ceil(n / 2);
  const kids = [half, n - half].map((count) =>
    promisify(execFile)(process.execPath, [child, String(port), String(count), '15000', ...addresses], {
      signal,
    }),
  );
  await sleep(2000, undefined, { signal });
  const during = await probe(port, '127.0.0.2');
  await Promise.all(kids);
  const after = await probe(port, '127.0.0.2');
  const sum = { connected: 0, atOnce: 0, byTimeout: 0, open: 0 };
  for (const k of await Promise.all(kids)) {
    const s = JSON.parse(k.stdout);
    for (const key of Object.keys(sum)) sum[key] += s[key];
  }
  site.sample();
  return { ...sum, during, after };
}

export default {
  name: 'idle-connections',
  async run({ short, signal, log }) {
    const n = short ? 2000 : 20_000;
    return withSite({ nodes: 1, site: 'relidle', signal }, async (site) => {
      const port = Number(new URL(site.url).port);
      const pid = site.enginePid();
      let passed = 0;
      const notes = [];
      const one = await floodRun(site, port, ['127.0.0.1'], n, signal);
      log(`1 address: ${JSON.stringify(one)}`);
      // A flood the kernel did not connect proves nothing: at least half of it must have connected.
      const flooded = (r) => r.connected >= n / 2;
      if (flooded(one) && one.during.answered === 10 && one.after.answered === 10) passed++;
      notes.push(
        `1 address: ${one.connected} connected, other address ${one.during.text} during, ${one.after.text} after`,
      );
      const many = await floodRun(
        site,
        port,
        Array.from({ length: 100 }, (_, i) => `127.0.1.${i + 1}`),
        n,
        signal,
      );
      log(`100 addresses: ${JSON.stringify(many)}`);
      if (flooded(many) && many.after.answered === 10) passed++;
      notes.push(`100 addresses: ${many.connected} connected, ${many.after.text} after header_timeout`);
      const same = site.enginePid() === pid;
      if (!same) notes.push('the engine died during the flood');
      return {
        runs: 2,
        passed: same ? passed : 0,
        dataLost: 0,
        stuckNodes: 0,
        internalErrors: site.internalErrors() + (same ? 0 : 1),
        enginePeakMiB: site.sample(),
        notes: `${n} connections; ${notes.join('; ')}`,
      };
    });
  },
};
