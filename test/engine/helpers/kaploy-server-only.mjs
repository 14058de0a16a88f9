#!/usr/bin/env node
// `kaploy` with only the `server` subcommands registered: the engine tests must not depend on the
// other subcommand families (testbed, oar, demo) loading. Same code path as dist/cli/kaploy.js.
import { Command } from 'commander';
import { runCli } from '../../../dist/cli/common/run-cli.js';
import { registerServer } from '../../../dist/cli/kaploy-server.js';

await runCli('kaploy', async (signal) => {
  const program = new Command('kaploy').exitOverride();
  let code;
  registerServer(program, {
    signal,
    setCode: (c) => {
      code = c;
    },
  });
  await program.parseAsync(process.argv);
  return code;
});
