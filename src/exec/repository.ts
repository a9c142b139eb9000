// The facts of the local repository that GitLab would know about a pushed commit: ref, commits,
// author, project path. Everything goes through the GitRunner seam.
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { tryGit, type GitRunner } from './git.js';

export interface RepositoryState {
  /** Work tree root. */
  root: string;
  /** Absolute object directory (shared with worktrees). */
  objectsDir: string;
  objectFormat: 'sha1' | 'sha256';
  sha: string;
  beforeSha: string;
  /** Branch or tag name; "HEAD" detached with no tag. */
  ref: string;
  refType: 'branch' | 'tag';
  commit: {
    title: string;
    message: string;
    description: string;
    author: string;
    authorName: string;
    authorEmail: string;
    timestamp: string;
  };
  defaultBranch: string;
  /** "namespace/project" from the origin remote, else "local/<directory>". */
  projectPath: string;
  /** True when tracked or untracked (not ignored) files differ from HEAD. */
  dirty: boolean;
}

export async function readRepository(git: GitRunner, cwd: string): Promise<RepositoryState> {
  const root = await findWorkTree(git, cwd);
  const sha = await tryGit(git, { args: ['rev-parse', '--verify', 'HEAD^{commit}'], cwd: root });
  if (!sha)
    throw new UserError(
      'EXEC_NO_COMMIT',
      `${root} has no commit yet; commit something (or use --dirty after a first commit)`,
    );
  const zero = '0'.repeat(sha.length);
  const [commonDir, objectFormat, beforeSha, branch, tag, log, originHead, initDefault, remote, status] =
    await Promise.all([
      git.run({ args: ['rev-parse', '--path-format=absolute', '--git-common-dir'], cwd: root }),
      tryGit(git, { args: ['rev-parse', '--show-object-format'], cwd: root }),
      tryGit(git, { args: ['rev-parse', '--verify', '-q', 'HEAD~1^{commit}'], cwd: root }),
      tryGit(git, { args: ['symbolic-ref', '--short', '-q', 'HEAD'], cwd: root }),
      tryGit(git, { args: ['describe', '--tags', '--exact-match', 'HEAD'], cwd: root }),
      git.run({ args: ['log', '-1', '--format=%an%x00%ae%x00%aI%x00%B', 'HEAD'], cwd: root }),
      tryGit(git, { args: ['symbolic-ref', '--short', '-q', 'refs/remotes/origin/HEAD'], cwd: root }),
      tryGit(git, { args: ['config', 'init.defaultBranch'], cwd: root }),
      tryGit(git, { args: ['remote', 'get-url', 'origin'], cwd: root }),
      git.run({ args: ['status', '--porcelain', '--untracked-files=normal'], cwd: root }),
    ]);
  const [authorName = '', authorEmail = '', timestamp = '', message = ''] = log.split('\0');
  const trimmedMessage = message.replace(/\n+$/, '\n');
  const title = trimmedMessage.split('\n')[0] ?? '';
  const onBranch = branch !== undefined && branch !== '';
  return {
    root,
    objectsDir: `${commonDir.trim()}/objects`,
    objectFormat: objectFormat === 'sha256' ? 'sha256' : 'sha1',
    sha,
    beforeSha: beforeSha || zero,
    ref: onBranch ? branch : tag || 'HEAD',
    refType: !onBranch && tag ? 'tag' : 'branch',
    commit: {
      title,
      message: trimmedMessage,
      description: trimmedMessage.split('\n').slice(1).join('\n').replace(/^\n+/, ''),
      author: `${authorName} <${authorEmail}>`,
      authorName,
      authorEmail,
      timestamp,
    },
    defaultBranch: originHead?.replace(/^origin\//, '') || initDefault || (onBranch ? branch : 'main'),
    projectPath: projectPathFromRemote(remote) ?? `local/${slugify(basename(root))}`,
    dirty: status.trim() !== '',
  };
}

/** Files changed by the commit (HEAD~1..HEAD) or between `compareTo` and HEAD, plus uncommitted ones when `dirty`. */
export async function changedFiles(
  git: GitRunner,
  repo: RepositoryState,
  options: { compareTo?: string; includeUncommitted: boolean },
): Promise<string[] | undefined> {
  const base = options.compareTo ?? (/^0+$/.test(repo.beforeSha) ? undefined : repo.beforeSha);
  // No parent commit: GitLab treats `changes` as true for a new branch.
  if (base === undefined) return undefined;
  const committed = await tryGit(git, {
    args: ['diff', '--name-only', '-z', options.compareTo ? `${base}...${repo.sha}` : `${base}..${repo.sha}`],
    cwd: repo.root,
  });
  if (committed === undefined) return undefined;
  const files = new Set(committed.split('\0').filter(Boolean));
  if (options.includeUncommitted) {
    const uncommitted = await tryGit(git, {
      args: ['ls-files', '-z', '--modified', '--others', '--exclude-standard'],
      cwd: repo.root,
    });
    for (const file of uncommitted?.split('\0') ?? []) if (file) files.add(file);
  }
  return [...files].sort();
}

// git@host:group/sub/project.git, https://host/group/project.git, ssh://git@host:22/group/project
export function projectPathFromRemote(remote: string | undefined): string | undefined {
  if (!remote) return undefined;
  const scp = /^[^@/]+@[^:/]+:(.+)$/.exec(remote);
  let path: string | undefined;
  if (scp) path = scp[1];
  else {
    try {
      path = new URL(remote).pathname;
    } catch {
      return undefined;
    }
  }
  const cleaned = path
    ?.replace(/^\/+/, '')
    .replace(/\.git\/?$/, '')
    .replace(/\/+$/, '');
  return cleaned && cleaned.includes('/') ? cleaned : cleaned ? `local/${cleaned}` : undefined;
}

/** GitLab's slug: lower case, non-alphanumerics to "-", at most 63 characters, no "-" at either end. */
export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '');
}

// The work tree root; git's "dubious ownership" refusal is named as such (typically `sudo tart exec`
// in a repository the user owns), with git's own safe.directory hint.
async function findWorkTree(git: GitRunner, cwd: string): Promise<string> {
  let failure = '';
  try {
    const root = (await git.run({ args: ['rev-parse', '--show-toplevel'], cwd })).trim();
    if (root) return root;
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  }
  if (failure.includes('dubious ownership')) {
    const directory = /safe\.directory\s+(\S+)/.exec(failure)?.[1] ?? cwd;
    throw new UserError(
      'EXEC_DUBIOUS_OWNERSHIP',
      `git refuses the repository at ${directory}: "dubious ownership" (it belongs to another user than the one running tart, ` +
        `as with "sudo tart exec" in your own repository). Run tart exec as the repository's owner, ` +
        `or trust the directory: git config --global --add safe.directory ${directory}`,
    );
  }
  throw new UserError(
    'EXEC_NOT_A_REPOSITORY',
    `${cwd} is not inside a git work tree (tart exec runs the committed state of a repository)`,
  );
}
