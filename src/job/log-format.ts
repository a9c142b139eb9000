// The byte formats gitlab-runner uses for its own trace lines (protocol reference §7.1–§7.2).
// Pure functions: they build strings; the TraceWriter masks and writes them.
import { ANSI } from '../model/ansi.js';

/** Println: a plain runner line. */
export function plainLine(text: string): string {
  return `${ANSI.clear}${text}${ANSI.reset}\n`;
}

/** Infoln: a green notice ("Job succeeded"). */
export function infoLine(text: string): string {
  return `${ANSI.boldGreen}${text}${ANSI.reset}\n`;
}

/** Warningln: yellow, with the "WARNING: " prefix. */
export function warningLine(text: string): string {
  return `${ANSI.yellow}WARNING: ${text}${ANSI.reset}\n`;
}

/** Errorln: bold red, with the "ERROR: " prefix. */
export function errorLine(text: string): string {
  return `${ANSI.boldRed}ERROR: ${text}${ANSI.reset}\n`;
}

/** A stage header: Println of a cyan description. */
export function stageHeaderLine(description: string): string {
  return plainLine(`${ANSI.boldCyan}${description}${ANSI.reset}`);
}

/** section_start marker; no newline, the header follows on the same line. */
export function sectionStartMarker(name: string, at: Date): string {
  return `section_start:${unixSeconds(at)}:${name}\r${ANSI.clear}`;
}

/** section_end marker; no newline, the next marker or line follows directly. */
export function sectionEndMarker(name: string, at: Date): string {
  return `section_end:${unixSeconds(at)}:${name}\r${ANSI.clear}`;
}

function unixSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}
