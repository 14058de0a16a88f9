import type { Command } from 'commander';
import type { SubcommandContext } from './common/subcommand.js';

// Placeholder until the demo commands land (owned by the demo work).
export function registerDemo(_program: Command, _ctx: SubcommandContext): void {}
