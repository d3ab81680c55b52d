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
import { describeCommand } from './commands/describe.js';
import { editCommand, explainCommand } from './commands/edit.js';
import { apiResourcesCommand, apiVersionsCommand, attachCommand, clusterInfoCommand, execCommand, portForwardCommand, versionCommand } from './commands/info.js';
import { configCommand } from './commands/config.js';
import { cordon, drainCommand, taintCommand, uncordon } from './commands/node.js';
import { logsCommand, rolloutCommand, setCommand, waitCommand } from './commands/workloads.js';
import { traceCommand } from './commands/trace.js';

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
    long: `tkubectl controls the tkube cluster manager: kubectl's commands and flags, plus a few that show how the cluster works (trace, coloured get --watch).`,
    usage: '[flags] [options]',
    subcommands: [
      createCommand,
      exposeCommand,
      runCommand,
      setCommand,
      explainCommand,
      getCommand,
      editCommand,
      deleteCommand,
      rolloutCommand,
      scaleCommand,
      clusterInfoCommand,
      cordon,
      uncordon,
      drainCommand,
      taintCommand,
      describeCommand,
      logsCommand,
      attachCommand,
      execCommand,
      portForwardCommand,
      traceCommand,
      applyCommand,
      patchCommand,
      waitCommand,
      labelCommand,
      annotateCommand,
      configCommand,
      apiResourcesCommand,
      apiVersionsCommand,
      versionCommand,
      optionsCommand,
    ],
  };
}

/** Runs tkubectl with `argv` (without the program name); returns the exit code. */
export function runTkubectl(argv: string[], io: IOStreams): Promise<number> {
  return execute(rootCommand(), argv, io);
}
