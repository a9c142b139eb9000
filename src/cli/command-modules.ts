// The command modules and the command names each one registers, loaded on demand: `tart run`
// imports only the run command's module (and what it needs), `tart --version` none at all.
import type { Command } from 'commander';

type Register = (program: Command) => void;

interface CommandModule {
  names: readonly string[];
  load(): Promise<Register>;
  /** The command describes the whole CLI (completion, man page): every module is loaded. */
  describesEveryCommand?: boolean;
}

/** Every command module, in help order. Add one entry per new `src/cli/commands/*.ts`. */
const COMMAND_MODULES: readonly CommandModule[] = [
  { names: ['register'], load: async () => (await import('./commands/register.js')).registerRegisterCommand },
  { names: ['verify'], load: async () => (await import('./commands/verify.js')).registerVerifyCommand },
  {
    names: ['unregister'],
    load: async () => (await import('./commands/unregister.js')).registerUnregisterCommand,
  },
  { names: ['list'], load: async () => (await import('./commands/list.js')).registerListCommand },
  { names: ['run', 'run-single'], load: async () => (await import('./commands/run.js')).registerRunCommand },
  { names: ['image'], load: async () => (await import('./commands/image.js')).registerImageCommand },
  { names: ['exec'], load: async () => (await import('./commands/exec.js')).registerExecCommand },
  { names: ['doctor'], load: async () => (await import('./commands/doctor.js')).registerDoctorCommand },
  { names: ['network'], load: async () => (await import('./commands/network.js')).registerNetworkCommand },
  {
    names: ['install', 'uninstall', 'start', 'stop', 'restart', 'status'],
    load: async () => (await import('./commands/service.js')).registerServiceCommands,
  },
  {
    names: ['completion', 'man'],
    load: async () => (await import('./commands/docs.js')).registerDocsCommands,
    describesEveryCommand: true,
  },
];

// Global options that take a value in the next argument (see buildProgram in main.ts).
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['-c', '--config', '--log-level', '--log-format']);

/**
 * The registration functions `argv` needs, in help order: the one module of the command it
 * names; none for a bare `--version`; all of them for help, no command or an unknown one (so help
 * lists every command and commander can suggest the nearest name).
 */
export async function commandRegistersFor(argv: readonly string[]): Promise<Register[]> {
  const word = commandWord(argv);
  if (word === 'version') return [];
  const wanted = COMMAND_MODULES.filter((module) => word !== undefined && module.names.includes(word));
  const everything = wanted.length === 0 || wanted.some((module) => module.describesEveryCommand);
  return Promise.all((everything ? COMMAND_MODULES : wanted).map((module) => module.load()));
}

// The first argument that is not a global option (or its value); 'version' for `-v`/`--version` first.
function commandWord(argv: readonly string[]): string | undefined {
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] as string;
    if (argument === '-v' || argument === '--version') return 'version';
    if (GLOBAL_OPTIONS_WITH_VALUE.has(argument)) index += 1;
    else if (!argument.startsWith('-')) return argument;
    else if (!argument.includes('=')) return undefined;
  }
  return undefined;
}
