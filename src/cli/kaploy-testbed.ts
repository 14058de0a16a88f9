import type { Command } from 'commander';
import { KaployError } from '../common/errors.js';
// Not the manager's index: that also exports the daemon, which loads every virtual node's code.
import { CONSOLE_ESCAPE_HINT, runConsole } from '../testbed/manager/console-client.js';
import { testbedDown } from '../testbed/manager/down.js';
import { FAULT_KINDS, parseFault } from '../testbed/manager/fault-parse.js';
import { DEFAULT_TESTBED_DIR } from '../testbed/manager/layout.js';
import { formatStatus, testbedFault, testbedStatus } from '../testbed/manager/status.js';
import { testbedUp } from '../testbed/manager/up.js';
import { upProgress } from '../testbed/manager/up-progress.js';
import type { SubcommandContext } from './common/subcommand.js';

/** After `. DIR/env`, commands find the site without --dir. */
const defaultDir = () => process.env.KAPLOY_TESTBED_DIR ?? DEFAULT_TESTBED_DIR;
const out = (s: string) => process.stdout.write(s);

function intOption(v: string | undefined, opt: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v))
    throw new KaployError('KAPLOY_OPTION', `${opt}: expected a non-negative integer, got '${v}'`, {
      key: opt,
    });
  return Number(v);
}

/** `kaploy testbed up|down|status|fault|console`: the virtual site. */
export function registerTestbed(program: Command, ctx: SubcommandContext): void {
  const tb = program
    .command('testbed')
    .description('run a virtual site (virtual nodes, BMC-like API, keys, site configuration)');

  tb.command('up')
    .description('start a virtual site in the background and write what clients and engines need into DIR')
    .requiredOption('--nodes <n>', 'number of virtual nodes (1 to 2000)')
    .option('--site <name>', 'site name ([a-z][a-z0-9-]*)', 'vsite')
    .option('--dir <dir>', 'site directory', defaultDir())
    .option('--boot-delay <ms>', 'time a node takes to boot, in ms')
    .option('--domain <domain>', 'name nodes node-N.SITE.DOMAIN (e.g. grid5000.fr)')
    .option(
      '--firmware-delay <ms>',
      'firmware/POST time of every reboot and power-on, skipped by kexec (default 0)',
    )
    .option('--nic-rate <bytes/s>', 'NIC rate of every node, in bytes per second (default: unlimited)')
    .option('--ssh-port <port>', 'SSH port of every node (each node has its own address)')
    .option(
      '--tls',
      'serve the engine over HTTPS: a CA and an engine certificate for 127.0.0.1/localhost made with openssl in DIR/tls (keys owner-only); client.yaml verifies against the CA',
    )
    .action(
      async (o: {
        nodes: string;
        site: string;
        dir: string;
        bootDelay?: string;
        domain?: string;
        firmwareDelay?: string;
        nicRate?: string;
        sshPort?: string;
        tls?: boolean;
      }) => {
        const r = await testbedUp(
          {
            nodes: o.nodes,
            site: o.site,
            dir: o.dir,
            ...(o.bootDelay === undefined ? {} : { bootDelay: o.bootDelay }),
            ...(o.domain === undefined ? {} : { domain: o.domain }),
            ...(o.firmwareDelay === undefined ? {} : { firmwareDelay: o.firmwareDelay }),
            ...(o.nicRate === undefined ? {} : { nicRate: o.nicRate }),
            ...(o.sshPort === undefined ? {} : { sshPort: o.sshPort }),
            ...(o.tls ? { tls: true } : {}),
          },
          { signal: ctx.signal, progress: upProgress(process.stderr) },
        );
        const l = r.layout;
        const states = Object.entries(r.states)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ');
        out(
          [
            `virtual site '${r.state.site}' is up: ${r.state.nodes} nodes (${states}), daemon pid ${r.pid}`,
            `  control API  http://127.0.0.1:${r.state.bmcPort}   log ${l.log}`,
            ...(r.engineUrl
              ? [`  engine       ${r.engineUrl}${r.state.tls ? `   CA ${l.tlsDir}/ca.pem` : ''}`]
              : []),
            `  files        ${l.siteYaml} ${l.nodeFile} ${l.sshConfig} ${l.knownHosts} ${l.clientYaml} ${l.keysDir}/ ${l.envsDir}/`,
            `  use it:      . ${l.env}`,
            `  then e.g.:   ssh -F ${l.sshConfig} node-1.${r.state.site}${o.domain === undefined ? '' : `.${o.domain}`} hostname`,
            `  stop it:     kaploy testbed down --dir ${l.dir}`,
            '',
          ].join('\n'),
        );
      },
    );

  tb.command('down')
    .description('stop the virtual site running in DIR')
    .option('--dir <dir>', 'site directory', defaultDir())
    .action(async (o: { dir: string }) => {
      const r = await testbedDown(o.dir, { signal: ctx.signal });
      out(r.stopped ? `virtual site '${r.site}' stopped\n` : `virtual site '${r.site}' was not running\n`);
    });

  tb.command('status')
    .description('list the nodes of the virtual site: name, power, boot state')
    .option('--dir <dir>', 'site directory', defaultDir())
    .option('--json', 'print the node statuses as JSON')
    .action(async (o: { dir: string; json?: boolean }) => {
      const r = await testbedStatus(o.dir, { signal: ctx.signal });
      out(o.json ? `${JSON.stringify(r.nodes, null, 2)}\n` : formatStatus(r.nodes));
    });

  tb.command('fault')
    .description(`inject a fault on a node (${FAULT_KINDS.join(', ')}), or 'clear' its faults`)
    .argument('<node>', 'node name')
    .argument('<kind>', `${FAULT_KINDS.join('|')}|clear`)
    .option('--dir <dir>', 'site directory', defaultDir())
    .option(
      '--when <when>',
      "trigger: 'boot', 'reboot' or a regular expression matched against command lines",
    )
    .option('--times <n>', 'fire at most n times (default: always)')
    .option('--extra-ms <ms>', 'slow_boot: extra boot time in ms')
    .option('--bytes-per-sec <n>', 'slow_disk: disk rate in bytes per second')
    .option('--after-bytes <n>', 'drop_connection: bytes before the connection drops')
    .action(
      async (
        node: string,
        kind: string,
        o: {
          dir: string;
          when?: string;
          times?: string;
          extraMs?: string;
          bytesPerSec?: string;
          afterBytes?: string;
        },
      ) => {
        const fault =
          kind === 'clear'
            ? 'clear'
            : parseFault({
                kind,
                ...(o.when === undefined ? {} : { when: o.when }),
                ...(o.times === undefined ? {} : { times: intOption(o.times, '--times') }),
                ...(o.extraMs === undefined ? {} : { extraMs: intOption(o.extraMs, '--extra-ms') }),
                ...(o.bytesPerSec === undefined
                  ? {}
                  : { bytesPerSec: intOption(o.bytesPerSec, '--bytes-per-sec') }),
                ...(o.afterBytes === undefined
                  ? {}
                  : { afterBytes: intOption(o.afterBytes, '--after-bytes') }),
              });
        const faults = await testbedFault(o.dir, node, fault, { signal: ctx.signal });
        out(`${node}: ${faults.length ? faults.map((f) => JSON.stringify(f)).join(' ') : 'no faults'}\n`);
      },
    );

  tb.command('console')
    .description("connect to a node's serial console (~. at the start of a line closes it)")
    .argument('<node>', 'node name')
    .option('--dir <dir>', 'site directory', defaultDir())
    .action(async (node: string, o: { dir: string }) => {
      process.stderr.write(`${CONSOLE_ESCAPE_HINT}\n`);
      const tty = process.stdin.isTTY === true;
      // Raw mode so keys (Ctrl-C included) go to the node, as on a real serial line.
      if (tty) process.stdin.setRawMode(true);
      try {
        await runConsole(o.dir, node, { input: process.stdin, output: process.stdout, signal: ctx.signal });
      } finally {
        if (tty) process.stdin.setRawMode(false);
        process.stdin.pause();
      }
    });
}
