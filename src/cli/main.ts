// The `tart` program: global options, the command modules, and the mapping from errors to exit
// codes. A user mistake (UserError) prints its message; anything else is a bug and prints a stack.
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { UserError } from '../errors.js';
import { LOG_FORMATS, LOG_LEVELS } from '../config/types.js';
import { projectRoot, tartVersion } from './version.js';
import { attachContext, createCliContext, globalOptions, type CliContext, type CliIo } from './context.js';
import { commandRegistersFor } from './command-modules.js';

type Register = (program: Command) => void;

// The command modules buildProgram registers. The CLI entry loads only those its argv needs; any
// other importer (tests, embedding) gets every one, loaded when this module is first imported.
let loadedRegisters: Register[] = [];

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  loadedRegisters = await commandRegistersFor(argv);
  const context = createCliContext({
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
  });
  return executeProgram(buildProgram(context), argv, context);
}

/** Parses and runs `argv` on a built program; errors become exit codes. */
export async function executeProgram(program: Command, argv: string[], context: CliContext): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    return reportError(error, context);
  }
}

export function buildProgram(context: CliContext): Command {
  const program = new Command('tart')
    .description('A GitLab CI runner that runs every job in a fresh, throw-away microVM')
    .version(tartVersion(), '-v, --version')
    .addOption(
      new Option(
        '-c, --config <path>',
        'config file (default: $TART_CONFIG, /etc/tart/config.toml as root, ~/.tart/config.toml otherwise)',
      ),
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'log format').choices(LOG_FORMATS))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    });
  attachContext(program, context);
  program.hook('preAction', (_program, action) => {
    const { logLevel, logFormat } = globalOptions(action);
    context.logFlags = { ...(logLevel ? { logLevel } : {}), ...(logFormat ? { logFormat } : {}) };
    context.logger.configure({
      ...(logLevel ? { level: logLevel } : {}),
      ...(logFormat ? { format: logFormat } : {}),
    });
  });
  for (const register of loadedRegisters) register(program);
  return program;
}

// Commander has already printed its own errors (unknown option, missing argument, help).
function reportError(error: unknown, context: CliContext): number {
  if (error instanceof CommanderError) {
    // `tart help [command]` ends in commander.help, `--help` in commander.helpDisplayed.
    return ['commander.help', 'commander.helpDisplayed', 'commander.version'].includes(error.code)
      ? 0
      : error.exitCode || 1;
  }
  if (error instanceof UserError) {
    context.logger.error(error.message);
    return 1;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  context.logger.error(`unexpected error: ${text}`);
  return 1;
}

// True when this process was started as `tart` (bin/tart.js, possibly through an npm symlink) or on this file.
function isProgramEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  let entry: string;
  try {
    entry = realpathSync(script);
  } catch {
    return false;
  }
  return entry === fileURLToPath(import.meta.url) || entry === join(projectRoot(), 'bin', 'tart.js');
}

if (isProgramEntry()) {
  process.exitCode = await runCli(process.argv.slice(2));
} else {
  loadedRegisters = await commandRegistersFor(['help']);
}
