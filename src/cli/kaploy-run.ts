import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { selectNodes } from '../client/deploy/node-selection.js';
import { readKeys } from '../client/deploy/read-keys.js';
import type { RunEnvironment } from '../client/deploy/run-options.js';
import { kaployRun } from '../client/run/kaploy-run.js';
import { MAX_RETRIES } from '../client/run/run-options.js';
import { KaployError } from '../common/errors.js';
import { EXIT } from './common/exit-codes.js';
import { collect, intInRange } from './common/options.js';
import type { SubcommandContext } from './common/subcommand.js';

interface RunArgs {
  envName?: string;
  envFile?: string;
  envUser?: string;
  envVersion?: number;
  machine: string[];
  file: string[];
  /** false with --no-key */
  key?: string | boolean;
  retries: number;
  minNodes?: number;
  minRatio?: number;
  /** false with --no-skip-deployed */
  skipDeployed: boolean;
  nodesFile?: string;
  forceSteps?: string;
  verboseLevel: number;
  server?: string;
}

function ratio(v: string): number {
  const r = Number(v);
  if (!/^(0|1)?(\.\d{1,6})?$/.test(v) || !(r > 0 && r <= 1))
    throw new InvalidArgumentError('expected a ratio in (0, 1], e.g. 0.8');
  return r;
}

/** The node file OAR gives the job (a passive job's script sees it), when neither -m nor -f is given. */
function jobNodeFile(): string[] {
  const f = process.env.OAR_NODEFILE ?? process.env.OAR_NODE_FILE ?? process.env.OAR_FILE_NODES;
  return f ? [f] : [];
}

/** `kaploy run`: deploy with retries, check enough nodes are up, then run the experiment on them. */
export function registerRun(program: Command, ctx: SubcommandContext): void {
  program
    .command('run')
    .description(
      [
        'Deploy ENV on the nodes, redeploy the KO ones up to --retries times, check that enough are deployed, then run COMMAND with the deployed nodes in $KAPLOY_NODES_FILE. As the script of a passive deploy job: oarsub -t deploy -l nodes=2 "kaploy run -e ENV --min-nodes 2 -- ./experiment.sh".',
        "Nodes already running ENV (same version and owner, as the engine records them) are not deployed again. Without -m/-f the job's $OAR_NODEFILE is used; without -k the keys of ~/.ssh/authorized_keys are installed for root when that file exists.",
        `Exit codes: 0 COMMAND succeeded, ${EXIT.TOO_FEW_NODES} too few nodes deployed (COMMAND not run), ${EXIT.COMMAND_FAILED} COMMAND failed, 3 bad usage, 4 refused by the server, 5 server unreachable, 130 cancelled.`,
      ].join('\n\n'),
    )
    // Options after COMMAND are its own (kaploy run -e ENV ./exp.sh -v), even without `--`.
    .passThroughOptions()
    .argument('<command...>', 'the experiment and its arguments (after --), run without a shell')
    .option('-e, --env-name <name>', 'name of a recorded environment')
    .option('-a, --env-file <file>', 'anonymous deployment of the environment described in FILE')
    .option('-u, --env-user <user>', 'owner of the environment')
    .option('--env-version <n>', 'version of the environment', intInRange(1, 1_000_000))
    .option('-m, --machine <host>', 'node to deploy (repeatable; ranges)', collect, [])
    .option('-f, --file <file>', 'file of nodes (default: $OAR_NODEFILE)', collect, [])
    .option('-k, --key [file]', 'public keys for root (default: ~/.ssh/authorized_keys if it exists)')
    .option('--no-key', 'install no key')
    .addOption(
      new Option('--retries <n>', `redeploy the KO nodes up to N times (0..${MAX_RETRIES})`)
        .default(2)
        .argParser(intInRange(0, MAX_RETRIES)),
    )
    .option(
      '--min-nodes <m>',
      'fewest deployed nodes to run COMMAND (default: every node)',
      intInRange(1, 1_000_000),
    )
    .option('--min-ratio <r>', 'fewest deployed nodes, as a ratio of the nodes given (e.g. 0.8)', ratio)
    .option('--no-skip-deployed', 'deploy also the nodes that already run the environment')
    .option(
      '--nodes-file <file>',
      'where to write the deployed nodes (default: ./kaploy-nodes.<job id or pid>)',
    )
    .option('--force-steps <steps>', 'workflow, as kadeploy3 --force-steps')
    .addOption(new Option('-V, --verbose-level <n>', 'verbosity 0..5').default(3).argParser(intInRange(0, 5)))
    .option('-S, --server <name>', 'server from the client configuration')
    .action(async (command: string[], a: RunArgs) => {
      if (!a.envName === !a.envFile)
        throw new KaployError(
          'KAPLOY_MISSING_OPTION',
          'give exactly one of -e/--env-name NAME or -a/--env-file FILE',
        );
      const nodes = await selectNodes(
        a.machine,
        a.file.length > 0 || a.machine.length > 0 ? a.file : jobNodeFile(),
        {
          warn: (m) => process.stderr.write(`kaploy run: ${m}\n`),
          signal: ctx.signal,
        },
      );
      const keys = await keysOf(a.key, ctx.signal);
      const environment: RunEnvironment = a.envFile
        ? { kind: 'file', file: a.envFile, cwd: process.cwd() }
        : {
            kind: 'recorded',
            name: a.envName ?? '',
            ...(a.envUser ? { user: a.envUser } : {}),
            ...(a.envVersion ? { version: a.envVersion } : {}),
          };
      const end = await kaployRun(
        {
          deploy: {
            nodes,
            environment,
            ...(keys ? { keys } : {}),
            request: a.forceSteps ? { forceSteps: a.forceSteps } : {},
            verbose: a.verboseLevel,
            ...(a.server ? { server: a.server } : {}),
            warn: (m) => process.stderr.write(`kaploy run: warning: ${m}\n`),
          },
          retries: a.retries,
          ...(a.minNodes !== undefined ? { minNodes: a.minNodes } : {}),
          ...(a.minRatio !== undefined ? { minRatio: a.minRatio } : {}),
          skipDeployed: a.skipDeployed,
          command,
          nodesFile: path.resolve(a.nodesFile ?? `kaploy-nodes.${process.env.OAR_JOB_ID ?? process.pid}`),
        },
        { out: process.stdout, err: process.stderr },
        ctx.signal,
      );
      ctx.setCode(
        end.kind === 'cancelled'
          ? EXIT.CANCELLED
          : end.kind === 'too-few'
            ? EXIT.TOO_FEW_NODES
            : end.experiment.code === 0
              ? EXIT.OK
              : EXIT.COMMAND_FAILED,
      );
    });
}

/** -k FILE, -k (the default file), --no-key, or by default ~/.ssh/authorized_keys when present. */
async function keysOf(key: string | boolean | undefined, signal: AbortSignal) {
  if (key === false) return undefined;
  if (typeof key === 'string') return readKeys(key, undefined, signal);
  const dflt = path.join(os.homedir(), '.ssh', 'authorized_keys');
  if (key === true || existsSync(dflt)) return readKeys(true, undefined, signal);
  return undefined;
}
