import type { Command } from 'commander';
import type { SubcommandContext } from './common/subcommand.js';

// Placeholder until the oar commands land (owned by the oar work).
export function registerOar(_program: Command, _ctx: SubcommandContext): void {}
