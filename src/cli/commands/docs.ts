// `tart completion bash|zsh|fish` and `tart man`: generated from the program's own definitions.
import { Argument, type Command } from 'commander';
import { describeCommand } from '../docs/command-tree.js';
import { completionScript, SHELLS, type Shell } from '../docs/completion.js';
import { manPage } from '../docs/man-page.js';
import { contextOf } from '../context.js';
import { tartVersion } from '../version.js';

function rootOf(command: Command): Command {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}

export function registerDocsCommands(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash: source <(tart completion bash))')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action((shell: Shell, _flags: unknown, command: Command) => {
      contextOf(command).stdout.write(completionScript(shell, describeCommand(rootOf(command))));
    });
  program
    .command('man')
    .description('print the tart(1) man page (roff): tart man | man -l -')
    .action((_flags: unknown, command: Command) => {
      // SOURCE_DATE_EPOCH (reproducible builds) dates the page when set.
      const epoch = Number(contextOf(command).env.SOURCE_DATE_EPOCH);
      const date = (Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000) : new Date())
        .toISOString()
        .slice(0, 10);
      contextOf(command).stdout.write(
        manPage(describeCommand(rootOf(command)), { version: tartVersion(), date }),
      );
    });
}
