// 20 concurrent deployments on a 500-node virtual site (short: 20 on 60 nodes), each kadeploy3
// on its own slice of the nodes, all started at once: the admission queue (docs/decisions/0030)
// takes them in order. A deployment passes when kadeploy3 exits 0 and every node of its slice is
// installed with the environment; no operation may be left running.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { booting, EXIT_CODES, installedWith, settle } from '../lib/checks.mjs';
import { withSite } from '../lib/site.mjs';

export default {
  name: 'concurrent',
  async run({ short, signal, log }) {
    const nodes = short ? 60 : 500;
    const deployments = 20;
    return withSite({ nodes, site: 'relconc', bootDelayMs: 0, signal }, async (site) => {
      const per = Math.floor(nodes / deployments);
      const slices = Array.from({ length: deployments }, (_, i) => site.nodes.slice(i * per, (i + 1) * per));
      const sampler = setInterval(() => site.sample(), 500);
      let results;
      try {
        results = await Promise.all(
          slices.map((slice, i) => {
            const file = path.join(site.dir, `slice-${i}`);
            writeFileSync(file, `${slice.join('\n')}\n`);
            return site.run('kadeploy3', ['-e', 'tiny-x64-base', '-u', 'deploy', '-f', file, '-V', '0']);
          }),
        );
      } finally {
        clearInterval(sampler);
      }
      const statuses = await site.status();
      let passed = 0;
      let internal = 0;
      let koNodes = 0;
      results.forEach((r, i) => {
        const notInstalled = slices[i].filter((n) => !installedWith(site, statuses, n, 'tiny-x64-base'));
        koNodes += notInstalled.length;
        if (!EXIT_CODES.has(r.code)) internal++;
        if (r.code === 0 && notInstalled.length === 0) passed++;
        else
          log(
            `deployment ${i}: exit ${r.code}, ${notInstalled.length} nodes not installed\n${r.stdout.slice(-2000)}${r.stderr}`,
          );
      });
      const stuck = await settle(site, { signal });
      return {
        runs: deployments,
        passed,
        dataLost: 0,
        stuckNodes: stuck.length + booting(statuses).length,
        internalErrors: internal + site.internalErrors(),
        enginePeakMiB: site.sample(),
        notes: `${deployments} x ${per} nodes on a ${nodes}-node site; ${koNodes} nodes not installed`,
      };
    });
  },
};
