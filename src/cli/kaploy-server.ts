import path from 'node:path';
import type { Command } from 'commander';
import { KaployError } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { loadSiteConfig, type SiteConfig } from '../common/site-config.js';
import { addReferenceEnvironments, defaultSiteConfig, enrolUsers, startEngine } from '../engine/main.js';
import { assertUserName } from '../formats/user-name.js';
import type { SubcommandContext } from './common/subcommand.js';

function siteConfig(file: string | undefined): SiteConfig {
  return file === undefined ? defaultSiteConfig() : loadSiteConfig(file);
}

function parsePort(v: string): number {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535)
    throw new KaployError('KAPLOY_OPTION', `invalid port '${v}': expected 0..65535`);
  return Number(v);
}

function parseOwner(v: string): { uid: number; gid: number } {
  const m = /^(\d{1,10}):(\d{1,10})$/.exec(v);
  if (!m) throw new KaployError('KAPLOY_OPTION', `invalid --owner '${v}': expected UID:GID (numbers)`);
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

/** `kaploy server`: run the site engine, enrol users, record reference environments. */
export function registerServer(program: Command, ctx: SubcommandContext): void {
  const server = program
    .command('server')
    .description('run the site engine (no --config: the embedded default site, data in ~/.kaploy/server)')
    .option('-c, --config <FILE>', 'site configuration (YAML)')
    .option('--port <N>', 'listen on this port instead of the configured one (0 = any free port)')
    .option('--host <ADDR>', 'listen on this address instead of the configured one')
    .action(async (o: { config?: string; port?: string; host?: string }) => {
      const config = siteConfig(o.config);
      const running = await startEngine(config, {
        ...(o.port !== undefined ? { port: parsePort(o.port) } : {}),
        ...(o.host !== undefined ? { host: o.host } : {}),
        logger: createLogger(`kaploy-server:${config.site}`),
      });
      process.stdout.write(`kaploy server listening on ${running.url}\n`);
      // Runs until SIGTERM/SIGINT (the program's signal), then closes cleanly.
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await running.close();
      ctx.setCode(0);
    });

  server
    .command('token')
    .description(
      "create or rotate users' secrets and write each to a mode-600 file (admin, needs the data directory)",
    )
    .option('-c, --config <FILE>', 'site configuration (YAML)')
    .requiredOption('--user <NAME...>', 'the user(s) to enrol')
    .option('--out <FILE>', 'where to write the secret of the one user (default ~USER/.kaploy/tokens/<site>)')
    .option('--out-dir <DIR>', "write each user's secret to DIR/USER (several users at once)")
    .option('--owner <UID:GID>', 'chown the token file (and its directory) to this owner')
    .action((_o: unknown, cmd: Command) => {
      // optsWithGlobals: `--config` may have been taken by the parent `server` command.
      const o = cmd.optsWithGlobals<{
        config?: string;
        user: string[];
        out?: string;
        outDir?: string;
        owner?: string;
      }>();
      if (o.out !== undefined && o.outDir !== undefined)
        throw new KaployError('KAPLOY_OPTION', '--out and --out-dir are exclusive');
      if (o.out !== undefined && o.user.length > 1)
        throw new KaployError('KAPLOY_OPTION', '--out names one file: give --out-dir DIR for several users');
      const config = siteConfig(o.config);
      const users = [...new Set(o.user.map(assertUserName))];
      const owner = o.owner !== undefined ? parseOwner(o.owner) : undefined;
      const written = enrolUsers(
        config,
        users.map((user) => ({
          user,
          ...(o.out !== undefined ? { out: o.out } : {}),
          ...(o.outDir !== undefined ? { out: path.join(o.outDir, user) } : {}),
          ...(owner ? { owner } : {}),
        })),
      );
      for (const w of written) process.stdout.write(`token for ${w.user} written to ${w.file}\n`);
    });

  server
    .command('add-env')
    .description(
      'record reference environments as USER (default deploy) from description files; existing ones are kept',
    )
    .option('-c, --config <FILE>', 'site configuration (YAML)')
    .option('--user <NAME>', 'owner of the environments', 'deploy')
    .argument('<FILE...>', 'environment descriptions (YAML 3.x or key/value)')
    .action(async (files: string[], _o: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<{ config?: string; user: string }>();
      const config = siteConfig(o.config);
      assertUserName(o.user);
      const res = await addReferenceEnvironments(config, o.user, files, ctx.signal);
      for (const w of res.warnings) process.stderr.write(`Warning: ${w}\n`);
      for (const a of res.added) process.stdout.write(`added ${a} for ${o.user}\n`);
      for (const s of res.skipped) process.stdout.write(`kept ${s} of ${o.user} (already recorded)\n`);
    });
}
