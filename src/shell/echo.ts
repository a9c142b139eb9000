// Lines that print runner messages and echo user commands inside a generated script (§2.2).
import { ANSI } from '../model/ansi.js';
import { BASH_QUOTING, escapeShell, type ScriptQuoting } from './escape.js';

/** `echo` of a green runner notice, e.g. "Fetching changes...". */
export function echoNotice(text: string, quoting: ScriptQuoting = BASH_QUOTING): string {
  return quoting.printLine(`${ANSI.boldGreen}${text}${ANSI.reset}`);
}

/** `echo` of a yellow runner warning (no "WARNING:" prefix, as gitlab-runner writes it). */
export function echoWarning(text: string): string {
  return `echo ${escapeShell(`${ANSI.yellow}${text}${ANSI.reset}`)}`;
}

/** `echo` of a red runner error line. */
export function echoError(text: string): string {
  return `echo ${escapeShell(`${ANSI.boldRed}${text}${ANSI.reset}`)}`;
}

/** Which block user lines come from; names the collapsible section of a multi-line command. */
export type UserScriptPrefix =
  | 'script_step'
  | 'after_script_step'
  | 'pre_clone_script'
  | 'post_clone_script'
  | 'pre_build_script'
  | 'post_build_script';

export interface UserLinesOptions {
  prefix: UserScriptPrefix;
  /** FF_SCRIPT_SECTIONS and features.trace_sections are both on: multi-line commands get a section. */
  scriptSections: boolean;
  /** Default: bash's. */
  quoting?: ScriptQuoting;
}

/**
 * BODY lines for user commands: each trimmed line is echoed in green as `$ command`, then written
 * verbatim (bash expands it normally). Multi-line commands show their first line only.
 */
export function userCommandLines(commands: string[], options: UserLinesOptions): string[] {
  const quoting = options.quoting ?? BASH_QUOTING;
  return commands.flatMap((raw, index) => {
    const command = raw.trim();
    if (command === '') return ['echo', ''];
    if (!command.includes('\n')) return [echoCommand(command, quoting), command];
    if (options.scriptSections)
      return [...sectionLines(`section_${options.prefix}_${index}`, command, quoting), command];
    const firstLine = command.slice(0, command.indexOf('\n'));
    return [echoCommand(`${firstLine} # collapsed multi-line command`, quoting), command];
  });
}

// The green `$ command` line.
function echoCommand(text: string, quoting: ScriptQuoting): string {
  return quoting.printLine(`${ANSI.boldGreen}$ ${text}${ANSI.reset}`);
}

// A collapsed trace section whose header is the whole command (FF_SCRIPT_SECTIONS).
function sectionLines(name: string, command: string, quoting: ScriptQuoting): string[] {
  const header = quoting.quote(
    `[hide_duration=true,collapsed=true]\r${ANSI.clear}${ANSI.boldGreen}$ ${command}${ANSI.reset}`,
  );
  const end = quoting.quote(`\r${ANSI.clear}`);
  return [
    `printf '%s\\n' "section_start:$(date +%s):${name}"${header}`,
    `printf '%s\\n' "section_end:$(date +%s):${name}"${end}`,
  ];
}
