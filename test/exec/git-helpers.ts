// A real throw-away git repository for exec tests.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Jane Doe',
      GIT_AUTHOR_EMAIL: 'jane@example.com',
      GIT_COMMITTER_NAME: 'Jane Doe',
      GIT_COMMITTER_EMAIL: 'jane@example.com',
    },
  }).trim();
}

/** Creates a repo on branch `main` with the given files committed in two commits (a README first). */
export function createRepository(files: Record<string, string>, options: { parent?: string } = {}): string {
  const root = mkdtempSync(join(options.parent ?? tmpdir(), 'tart-exec-repo-'));
  git(root, 'init', '-q', '-b', 'main');
  writeFileSync(join(root, 'README.md'), '# sample\n');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'Initial commit');
  writeFiles(root, files);
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'Add pipeline\n\nWith a description line.');
  return root;
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

/** Async git, for commands that talk to a server running in this same process. */
export function gitAsync(cwd: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim()),
    );
  });
}
