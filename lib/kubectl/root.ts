/**
 * The command tree of tkubectl: kubectl's verbs, in kubectl's groups, plus `trace`.
 */
import { execute, type Command } from './cli/command.js';
import { flagUsages } from './cli/flags.js';
import type { IOStreams } from './cli/io.js';
import { globalFlags } from './factory.js';
import { getCommand } from './commands/get.js';
import { createCommand, exposeCommand, runCommand } from './commands/create.js';
import { deleteCommand } from './commands/delete.js';
import { applyCommand } from './commands/apply.js';
import { annotateCommand, labelCommand } from './commands/label.js';
import { patchCommand, scaleCommand } from './commands/patch.js';

const optionsCommand: Command = {
  name: 'options',
  short: 'Print the list of flags inherited by all commands',
  group: 'Other Commands:',
  async run(ctx) {
    ctx.out(`The following options can be passed to any command:\n\n${flagUsages(globalFlags)}`);
  },
};

export function rootCommand(): Command {
  return {
    name: 'tkubectl',
    short: 'tkubectl controls a tkube (or any Kubernetes) cluster.',
    long: `tkubectl controls the tkube cluster manager: kubectl's commands and flags, plus a few that show how the cluster works.

 Find more information at the tkube README.`,
    usage: '[flags] [options]',
    subcommands: [createCommand, exposeCommand, runCommand, getCommand, deleteCommand, scaleCommand, labelCommand, annotateCommand, patchCommand, applyCommand, optionsCommand],
  };
}

/** Runs tkubectl with `argv` (without the program name); returns the exit code. */
export function runTkubectl(argv: string[], io: IOStreams): Promise<number> {
  return execute(rootCommand(), argv, io);
}
