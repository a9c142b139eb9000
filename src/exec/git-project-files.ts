// ProjectFiles over a commit: CI files, include globs and rules:exists see exactly what a push of
// that commit would contain, not the working tree.
import type { ProjectFiles } from '../ci-yaml/project-files.js';
import { tryGit, type GitRunner } from './git.js';

export function createCommitProjectFiles(options: { git: GitRunner; root: string; sha: string; gitDir?: string }): ProjectFiles {
  const prefix = options.gitDir ? ['--git-dir', options.gitDir] : [];
  let listing: Promise<string[]> | undefined;
  return {
    async read(path) {
      const clean = path.replace(/^\/+/, '');
      const exists = await tryGit(options.git, { args: [...prefix, 'cat-file', '-e', `${options.sha}:${clean}`], cwd: options.root });
      if (exists === undefined) return undefined;
      return options.git.run({ args: [...prefix, 'show', `${options.sha}:${clean}`], cwd: options.root });
    },
    list() {
      listing ??= options.git.run({ args: [...prefix, 'ls-tree', '-r', '-z', '--name-only', options.sha], cwd: options.root }).then((out) => out.split('\0').filter(Boolean).sort());
      return listing;
    },
  };
}
