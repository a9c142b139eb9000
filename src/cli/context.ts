// What every command needs besides its own flags: where output goes, the environment, the host's
// identity, the resolved global options and a logger. main.ts attaches one context to the root
// program; commands reach it from their Command, so `registerXCommand(program)` stays one argument.
import type { Command } from 'commander';
import type { LogFormat, LogLevel } from '../config/types.js';
import { currentHost, resolveConfigPath, type HostFacts } from '../config/paths.js';
import { createLogger, type Logger } from '../log/logger.js';

export interface TextSink {
  write(chunk: string): unknown;
}

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  env: NodeJS.ProcessEnv;
}

export interface CliContext extends CliIo {
  host: HostFacts;
  /** One logger per CLI run (stderr); commands register the secrets they handle on it. */
  logger: Logger;
  /** --log-level/--log-format as given on the command line (set before the command's action runs). */
  logFlags: { logLevel?: LogLevel; logFormat?: LogFormat };
}

export interface GlobalOptions {
  configPath: string;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
}

const contexts = new WeakMap<Command, CliContext>();

export function createCliContext(io: CliIo, host: HostFacts = { ...currentHost(), env: io.env }): CliContext {
  return { ...io, host, logger: createLogger({ stream: io.stderr, level: 'info', format: 'runner' }), logFlags: {} };
}

export function attachContext(program: Command, context: CliContext): void {
  contexts.set(program, context);
}

/** The context of the program `command` belongs to. */
export function contextOf(command: Command): CliContext {
  for (let current: Command | null = command; current !== null; current = current.parent) {
    const context = contexts.get(current);
    if (context !== undefined) return context;
  }
  throw new Error('no CLI context attached to this program');
}

/** `--config`, `--log-level` and `--log-format`, wherever they were given, with the config path resolved. */
export function globalOptions(command: Command): GlobalOptions {
  const context = contextOf(command);
  const options = command.optsWithGlobals<{ config?: string; logLevel?: LogLevel; logFormat?: LogFormat }>();
  return {
    configPath: resolveConfigPath(options.config, context.host),
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    ...(options.logFormat ? { logFormat: options.logFormat } : {}),
  };
}

/** Applies config.toml's log_level/log_format to the CLI logger; --log-level/--log-format still win. */
export function applyConfigLogging(
  command: Command,
  config: { logLevel: LogLevel; logFormat: LogFormat },
): Logger {
  const context = contextOf(command);
  context.logFlags = { ...context.logFlags, ...pickLogFlags(globalOptions(command)) };
  return applyLogSettings(context, config);
}

/** The same, for code that holds the context only (the daemon applies its config there). */
export function applyLogSettings(context: CliContext, config: { logLevel: LogLevel; logFormat: LogFormat }): Logger {
  const flags = context.logFlags;
  context.logger.configure({ level: flags.logLevel ?? config.logLevel, format: flags.logFormat ?? config.logFormat });
  return context.logger;
}

function pickLogFlags(options: GlobalOptions): CliContext['logFlags'] {
  return {
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    ...(options.logFormat ? { logFormat: options.logFormat } : {}),
  };
}
