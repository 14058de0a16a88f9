#!/usr/bin/env node
import { Command } from 'commander';
import { runCli } from './common/run-cli.js';
import { registerOar } from './kaploy-oar.js';
import { registerRun } from './kaploy-run.js';
import { registerServer } from './kaploy-server.js';
import { registerSimulate } from './kaploy-simulate.js';
import { registerTestbed } from './kaploy-testbed.js';

/** `kaploy`: admin and testbed entry point; each family of subcommands lives in its own file. */
await runCli('kaploy', async (signal) => {
  const program = new Command('kaploy')
    .description(
      'kaploy: bare-metal OS deployment for OAR clusters (admin, server, virtual site and simulator commands)',
    )
    .exitOverride()
    .showHelpAfterError()
    // kaploy run's COMMAND keeps its own options (passThroughOptions needs this).
    .enablePositionalOptions();
  let code: number | undefined;
  const setCode = (c: number) => {
    code = c;
  };
  registerTestbed(program, { signal, setCode });
  registerServer(program, { signal, setCode });
  registerOar(program, { signal, setCode });
  registerRun(program, { signal, setCode });
  registerSimulate(program, { signal, setCode });
  await program.parseAsync(process.argv);
  return code;
});
