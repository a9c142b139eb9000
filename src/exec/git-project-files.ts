// ProjectFiles over a commit: CI files, include globs and rules:exists see exactly what a push of
// that commit would contain, not the working tree.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ProjectFiles } from '../ci-yaml/project-files.js';
import { UserError } from '../errors.js';
import { tryGit, type GitRunner } from './git.js';

export function createCommitProjectFiles(options: {
  git: GitRunner;
  root: string;
  sha: string;
  gitDir?: string;
}): ProjectFiles {
  const prefix = options.gitDir ? ['--git-dir', options.gitDir] : [];
  let listing: Promise<string[]> | undefined;
  return {
    async read(path) {
      const clean = path.replace(/^\/+/, '');
      const exists = await tryGit(options.git, {
        args: [...prefix, 'cat-file', '-e', `${options.sha}:${clean}`],
        cwd: options.root,
      });
      if (exists === undefined) return undefined;
      return options.git.run({ args: [...prefix, 'show', `${options.sha}:${clean}`], cwd: options.root });
    },
    list() {
      listing ??= options.git
        .run({ args: [...prefix, 'ls-tree', '-r', '-z', '--name-only', options.sha], cwd: options.root })
        .then((out) => out.split('\0').filter(Boolean).sort());
      return listing;
    },
  };
}

/** Fails with a hint when the CI file exists in the working tree but not in the commit being run. */
export async function checkConfigCommitted(
  files: ProjectFiles,
  file: string,
  workTree: string,
): Promise<void> {
  if ((await files.read(file)) !== undefined) return;
  if (existsSync(join(workTree, file))) {
    throw new UserError(
      'EXEC_CONFIG_NOT_COMMITTED',
      `${file} is not committed; commit it or run with --dirty`,
    );
  }
}
