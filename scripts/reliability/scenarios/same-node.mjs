// The same node requested twice: two kadeploy3 at once on one node (same user, then two users),
// a kadeploy3 and a kareboot3 at once on one node, and one request naming a node twice. A run
// passes when every program ends with a code of the README's table, at least one deployment of
// the node succeeds, a refused or left-out one says so (exit 1, 2 or 4, never a success it did not
// do), the node ends installed with the environment, and no operation is left running.
import { EXIT_CODES, installedWith, settle } from '../lib/checks.mjs';
import { withSite } from '../lib/site.mjs';

const deploy = (site, node, o = {}) =>
  site.run('kadeploy3', ['-e', 'tiny-x64-base', '-u', 'deploy', '-m', node, ...(o.args ?? [])], o);

export default {
  name: 'same-node',
  async run({ short, signal, log }) {
    const rounds = short ? 1 : 5;
    return withSite({ nodes: 4, site: 'relsame', signal }, async (site) => {
      const [n1, n2, n3, n4] = site.nodes;
      let runs = 0;
      let passed = 0;
      let internal = 0;
      const failures = [];
      const judge = async (what, results, node) => {
        runs++;
        const codes = results.map((r) => r.code);
        const statuses = await site.status();
        const okInstalled = installedWith(site, statuses, node, 'tiny-x64-base');
        log(`${what}: exit codes ${codes.join(', ')}, node installed: ${okInstalled}`);
        const bad = codes.filter((c) => !EXIT_CODES.has(c));
        internal += bad.length;
        const good =
          bad.length === 0 &&
          codes.includes(0) &&
          codes.every((c) => [0, 1, 2, 4].includes(c)) &&
          okInstalled;
        if (good) passed++;
        else {
          failures.push(`${what}: codes ${codes.join(',')}, installed ${okInstalled}`);
          for (const r of results) log(`${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
        }
      };
      for (let i = 0; i < rounds; i++) {
        await judge('two deployments, one user', await Promise.all([deploy(site, n1), deploy(site, n1)]), n1);
        await judge(
          'two deployments, two users',
          await Promise.all([deploy(site, n2), deploy(site, n2, { user: 'deploy' })]),
          n2,
        );
        const [d, r] = await Promise.all([
          deploy(site, n3),
          site.run('kareboot3', ['-r', 'simple', '-m', n3]),
        ]);
        // The reboot may run before or after (the node then boots production): deploy once more
        // alone to check the node is usable; the pair itself must end with table codes.
        runs++;
        if (EXIT_CODES.has(d.code) && EXIT_CODES.has(r.code)) passed++;
        else {
          internal++;
          failures.push(`deploy+reboot: codes ${d.code},${r.code}`);
        }
        await judge('a deployment after deploy+reboot', [await deploy(site, n3)], n3);
        const twice = await site.run('kadeploy3', [
          '-e',
          'tiny-x64-base',
          '-u',
          'deploy',
          '-m',
          n4,
          '-m',
          n4,
        ]);
        await judge('one request naming the node twice', [twice], n4);
        site.sample();
      }
      const stuck = await settle(site, { signal });
      return {
        runs,
        passed,
        dataLost: 0,
        stuckNodes: stuck.length,
        internalErrors: internal + site.internalErrors(),
        enginePeakMiB: site.sample(),
        notes: failures.length ? failures.slice(0, 2).join('; ') : `${rounds} round(s) of 5 cases`,
      };
    });
  },
};
