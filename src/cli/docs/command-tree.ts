// The CLI's commands and options as plain data, read from the commander program itself, so the
// shell completions and the man page can never drift from what the parser accepts.
import type { Command, Option } from 'commander';

export interface OptionInfo {
  /** `--config`, with `-c` in `short` when there is one. */
  long: string;
  short?: string;
  /** The value placeholder (`<path>`), absent for a switch. */
  value?: string;
  description: string;
  choices?: readonly string[];
}

export interface CommandInfo {
  /** Words after `tart`: [] for the program, ['image', 'build'] for a subcommand. */
  path: string[];
  description: string;
  /** `[jobs...]`-style argument usage. */
  arguments: string;
  options: OptionInfo[];
  subcommands: CommandInfo[];
}

export function describeCommand(command: Command, parentPath: string[] = []): CommandInfo {
  const path = command.parent ? [...parentPath, command.name()] : [];
  return {
    path,
    description: command.description(),
    arguments: command.registeredArguments
      .map((argument) => {
        const name = `${argument.name()}${argument.variadic ? '...' : ''}`;
        return argument.required ? `<${name}>` : `[${name}]`;
      })
      .join(' '),
    options: command.options.filter((option) => !option.hidden).map(describeOption),
    subcommands: command.commands
      .filter((child) => !isHidden(child))
      .map((child) => describeCommand(child, path)),
  };
}

/** Every command below (and including) `root`, depth first. */
export function allCommands(root: CommandInfo): CommandInfo[] {
  return [root, ...root.subcommands.flatMap(allCommands)];
}

function describeOption(option: Option): OptionInfo {
  const value = /([<[][^>\]]+[>\]])/.exec(option.flags)?.[1];
  return {
    long: option.long ?? option.flags,
    ...(option.short ? { short: option.short } : {}),
    ...(value ? { value } : {}),
    description: option.description,
    ...(option.argChoices ? { choices: option.argChoices } : {}),
  };
}

// commander keeps `hidden` private on Command; `help` is its implicit command, completed too.
function isHidden(command: Command): boolean {
  return (command as unknown as { _hidden?: boolean })._hidden === true;
}
