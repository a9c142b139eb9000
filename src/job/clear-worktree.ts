// The clear_worktree script, run before the second get_sources attempt (job execution
// reference §1.3): remove everything tracked and untracked so the next fetch starts clean.
import { ANSI } from '../model/ansi.js';

export function clearWorktreeScript(projectDir: string): string {
  const dir = singleQuote(projectDir);
  return [
    `echo ${singleQuote(`${ANSI.boldGreen}Deleting tracked and untracked files...${ANSI.reset}`)}`,
    `if [ -d ${dir} ]; then cd ${dir} && git rm -rf --ignore-unmatch --quiet . && git clean -ffdx -q; fi`,
    '',
  ].join('\n');
}

// POSIX single quotes: nothing inside is special except the quote itself.
function singleQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
