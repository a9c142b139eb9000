// Test repositories built with the real git CLI in temp dirs: a bare repo to serve, plus the
// shas, branches and tags tests assert on. Commit dates are fixed, so shas are reproducible.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface RepoFile {
  content: string | Buffer;
  executable?: boolean;
}

/** Path inside the repository → content. */
export type RepoFiles = Record<string, string | Buffer | RepoFile>;

export interface SubmoduleSpec {
  /** Where the submodule sits in the superproject, e.g. `lib`. */
  path: string;
  /** The `.gitmodules` URL; a relative one like `../lib.git` resolves against the superproject's remote. */
  url: string;
  /** The commit the superproject records. */
  sha: string;
}

export interface CommitSpec {
  files?: RepoFiles;
  remove?: string[];
  submodules?: SubmoduleSpec[];
  message?: string;
  /** The branch to commit on (default: the repo's main branch; created from it when new). */
  branch?: string;
}

export interface CreateRepoOptions {
  /** Files of the first commit (default: a README.md). */
  files?: RepoFiles;
  /** More commits after the first, in order. */
  commits?: CommitSpec[];
  /** Submodules recorded in the first commit. */
  submodules?: SubmoduleSpec[];
  /** The default branch (default `main`). */
  branch?: string;
  /** Tags on the last commit. */
  tags?: string[];
  /** The bare repo's directory name without `.git` (default `repo`). */
  name?: string;
}

export interface TestRepo {
  /** The bare repository to serve (pass to fakeGitLab.addProject). */
  readonly bareDir: string;
  readonly branch: string;
  /** Commits on the default branch, oldest first. */
  readonly shas: string[];
  /** Tag name → commit. */
  readonly tags: Record<string, string>;
  /** The newest commit on the default branch. */
  head(): string;
  /** Commits and pushes; returns the new sha (for fetch-strategy reruns). */
  addCommit(spec: CommitSpec): Promise<string>;
  addTag(name: string, sha?: string): Promise<void>;
  /** Removes the temp dir. */
  cleanup(): Promise<void>;
}

/** Creates a bare repository with the given history. */
export async function createRepo(options: CreateRepoOptions = {}): Promise<TestRepo> {
  const root = await mkdtemp(join(tmpdir(), 'tart-repo-'));
  const branch = options.branch ?? 'main';
  const bareDir = join(root, `${options.name ?? 'repo'}.git`);
  const workDir = join(root, 'work');
  const history = new RepoHistory(root, bareDir, workDir, branch);
  await history.init();
  await history.commit({
    files: options.files ?? { 'README.md': '# test repository\n' },
    submodules: options.submodules,
    message: 'Initial commit',
  });
  for (const spec of options.commits ?? []) await history.commit(spec);
  for (const tag of options.tags ?? []) await history.addTag(tag);
  return history;
}

/** A superproject whose `.gitmodules` points at `submodule` through a relative URL (`../<name>.git`). */
export async function createRepoWithSubmodule(options: {
  submodule: TestRepo;
  /** The submodule's project name as served (default: the submodule's bare dir name). */
  submoduleName?: string;
  path?: string;
  files?: RepoFiles;
  name?: string;
}): Promise<TestRepo> {
  const submoduleName =
    options.submoduleName ?? options.submodule.bareDir.replace(/^.*\//, '').replace(/\.git$/, '');
  return createRepo({
    name: options.name ?? 'super',
    files: options.files ?? { 'README.md': '# superproject\n' },
    submodules: [
      { path: options.path ?? 'lib', url: `../${submoduleName}.git`, sha: options.submodule.head() },
    ],
  });
}

class RepoHistory implements TestRepo {
  readonly shas: string[] = [];
  readonly tags: Record<string, string> = {};
  private commitCount = 0;
  private checkedOut: string;

  constructor(
    private readonly root: string,
    readonly bareDir: string,
    private readonly workDir: string,
    readonly branch: string,
  ) {
    this.checkedOut = branch;
  }

  async init(): Promise<void> {
    await runGit(this.root, ['init', '--quiet', '--bare', `--initial-branch=${this.branch}`, this.bareDir]);
    await runGit(this.root, ['init', '--quiet', `--initial-branch=${this.branch}`, this.workDir]);
    await runGit(this.workDir, ['remote', 'add', 'origin', this.bareDir]);
  }

  head(): string {
    const head = this.shas.at(-1);
    if (head === undefined) throw new Error('repository has no commits');
    return head;
  }

  async addCommit(spec: CommitSpec): Promise<string> {
    return this.commit(spec);
  }

  async commit(spec: CommitSpec): Promise<string> {
    const branch = spec.branch ?? this.branch;
    await this.switchTo(branch);
    await this.writeFiles(spec.files ?? {});
    for (const path of spec.remove ?? []) await runGit(this.workDir, ['rm', '--quiet', '-r', '--', path]);
    await runGit(this.workDir, ['add', '--all']);
    for (const submodule of spec.submodules ?? []) await this.recordSubmodule(submodule);
    this.commitCount += 1;
    await runGit(
      this.workDir,
      ['commit', '--quiet', '--allow-empty', '-m', spec.message ?? `Commit ${this.commitCount}`],
      commitDate(this.commitCount),
    );
    const sha = await runGit(this.workDir, ['rev-parse', 'HEAD']);
    await runGit(this.workDir, ['push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`]);
    if (branch === this.branch) this.shas.push(sha);
    return sha;
  }

  async addTag(name: string, sha?: string): Promise<void> {
    const target = sha ?? this.head();
    await runGit(this.workDir, ['tag', '--force', name, target]);
    await runGit(this.workDir, ['push', '--quiet', '--force', 'origin', `refs/tags/${name}`]);
    this.tags[name] = target;
  }

  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }

  /** Checks out `branch`; a new branch starts at the default branch's head. */
  private async switchTo(branch: string): Promise<void> {
    if (this.checkedOut === branch) return;
    const exists = await this.hasBranch(branch);
    await runGit(
      this.workDir,
      exists ? ['checkout', '--quiet', branch] : ['checkout', '--quiet', '-b', branch, this.head()],
    );
    this.checkedOut = branch;
  }

  private async hasBranch(branch: string): Promise<boolean> {
    return runGit(this.workDir, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]).then(
      () => true,
      () => false,
    );
  }

  private async writeFiles(files: RepoFiles): Promise<void> {
    for (const [path, value] of Object.entries(files)) {
      const file = typeof value === 'string' || Buffer.isBuffer(value) ? { content: value } : value;
      const target = join(this.workDir, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, file.content);
      await chmod(target, file.executable === true ? 0o755 : 0o644);
    }
  }

  /** A gitlink plus its .gitmodules entry, without cloning the submodule. */
  private async recordSubmodule(submodule: SubmoduleSpec): Promise<void> {
    // An empty directory is how an uninitialised submodule looks; later `add --all` leaves it alone.
    await mkdir(join(this.workDir, submodule.path), { recursive: true });
    await runGit(this.workDir, [
      'config',
      '-f',
      '.gitmodules',
      `submodule.${submodule.path}.path`,
      submodule.path,
    ]);
    await runGit(this.workDir, [
      'config',
      '-f',
      '.gitmodules',
      `submodule.${submodule.path}.url`,
      submodule.url,
    ]);
    await runGit(this.workDir, ['add', '.gitmodules']);
    await runGit(this.workDir, [
      'update-index',
      '--add',
      '--cacheinfo',
      `160000,${submodule.sha},${submodule.path}`,
    ]);
  }
}

/** Git with no user or system config, so the host's settings cannot change the result. */
export async function runGit(
  cwd: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<string> {
  const { stdout } = await execFileAsync('git', args, {
    cwd,
    env: { ...gitTestEnv(), ...extraEnv },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim();
}

/** The environment test git commands run with. */
export function gitTestEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Jane Doe',
    GIT_AUTHOR_EMAIL: 'jane@example.com',
    GIT_COMMITTER_NAME: 'Jane Doe',
    GIT_COMMITTER_EMAIL: 'jane@example.com',
  };
}

function commitDate(index: number): Record<string, string> {
  const date = `${1_700_000_000 + index * 60} +0000`;
  return { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
}
