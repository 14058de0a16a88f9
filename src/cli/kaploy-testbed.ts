import type { Command } from 'commander';
import type { SubcommandContext } from './common/subcommand.js';

// Placeholder until the testbed commands land (owned by the testbed work).
export function registerTestbed(_program: Command, _ctx: SubcommandContext): void {}
