import type { Command } from 'commander';
import type { SubcommandContext } from './common/subcommand.js';

// Placeholder until the server commands land (owned by the server work).
export function registerServer(_program: Command, _ctx: SubcommandContext): void {}
