// The repository a job clones: a temporary bare repo that borrows the user's objects through
// `objects/info/alternates` and carries only the refs a pipeline fetch asks for. The user's
// repository, branch and index are never written to: a --dirty snapshot is built with a
// temporary index and stored in the temporary repo's own object directory.
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { GitRunner } from './git.js';
import type { RepositoryState } from './repository.js';

export interface SourceRepository {
  /** Directory holding `<name>.git` (the git server's project root). */
  root: string;
  /** Repository path under root: the project's path, e.g. "group/widget.git", as GitLab serves it. */
  name: string;
  /** The commit jobs check out: HEAD, or the snapshot of uncommitted changes. */
  sha: string;
  remove(): Promise<void>;
}

export async function prepareSourceRepository(options: {
  git: GitRunner;
  repo: RepositoryState;
  pipelineId: number;
  dirty: boolean;
  tempRoot?: string;
}): Promise<SourceRepository> {
  const { git, repo } = options;
  const root = await mkdtemp(join(options.tempRoot ?? tmpdir(), 'tart-exec-source-'));
  // The path becomes the job's project dir (<builds>/<token>/<id>/<namespace>/<project>), so two
  // projects never share a checkout, as with gitlab-runner.
  const name = `${safeProjectPath(repo.projectPath)}.git`;
  const bare = join(root, name);
  try {
    await git.run({
      args: ['init', '--bare', '-q', `--object-format=${repo.objectFormat}`, bare],
      cwd: root,
    });
    await writeFile(join(bare, 'objects', 'info', 'alternates'), `${repo.objectsDir}\n`);
    // A shallow user clone lacks history past its boundary; upload-pack must know where it ends.
    await copyFile(join(dirname(repo.objectsDir), 'shallow'), join(bare, 'shallow')).catch(() => undefined);
    const sha = options.dirty ? await snapshotWorkingTree(git, repo, bare, root) : repo.sha;
    const refs = [
      `refs/pipelines/${options.pipelineId}`,
      repo.refType === 'tag' ? `refs/tags/${repo.ref}` : `refs/heads/${repo.ref}`,
    ];
    for (const ref of refs) await git.run({ args: ['--git-dir', bare, 'update-ref', ref, sha], cwd: root });
    await git.run({ args: ['--git-dir', bare, 'symbolic-ref', 'HEAD', refs[1] as string], cwd: root });
    return { root, name, sha, remove: () => rm(root, { recursive: true, force: true }) };
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

// A commit of the working tree (tracked changes and untracked, non-ignored files) on top of HEAD.
async function snapshotWorkingTree(
  git: GitRunner,
  repo: RepositoryState,
  bare: string,
  scratch: string,
): Promise<string> {
  const env = {
    GIT_INDEX_FILE: join(scratch, 'snapshot-index'),
    GIT_OBJECT_DIRECTORY: join(bare, 'objects'),
    GIT_ALTERNATE_OBJECT_DIRECTORIES: repo.objectsDir,
    // commit-tree needs an identity; the user's may be unset.
    GIT_AUTHOR_NAME: repo.commit.authorName || 'tart exec',
    GIT_AUTHOR_EMAIL: repo.commit.authorEmail || 'tart-exec@localhost',
    GIT_COMMITTER_NAME: 'tart exec',
    GIT_COMMITTER_EMAIL: 'tart-exec@localhost',
  };
  await git.run({ args: ['read-tree', repo.sha], cwd: repo.root, env });
  await git.run({ args: ['add', '-A', '--', '.'], cwd: repo.root, env });
  const tree = (await git.run({ args: ['write-tree'], cwd: repo.root, env })).trim();
  return (
    await git.run({
      args: ['commit-tree', tree, '-p', repo.sha, '-m', `tart exec: uncommitted changes on ${repo.ref}`],
      cwd: repo.root,
      env,
    })
  ).trim();
}

// A remote's path can hold anything; only plain segments may become directories.
function safeProjectPath(path: string): string {
  const segments = path.split('/');
  const plain = segments.every((segment) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(segment));
  return plain ? path : 'local/project';
}
