import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { selectFiles, type FileSelectionRequest } from '../../src/artifacts/select-files.js';
import type { HostEnvironment } from '../support/host-environment.js';
import { hostProject, traceCollector } from './fixtures.js';

describe('selectFiles', () => {
  let env: HostEnvironment;
  let projectDir: string;

  before(async () => {
    ({ env, projectDir } = await hostProject({
      'README.md': 'tracked',
      '.gitignore': 'ignored.log\n',
      'src/main.c': 'tracked',
      'build/app': 'bin',
      'build/obj/a.o': 'o',
      'build/obj/b.o': 'o',
      'build/obj/keep.txt': 'k',
      'build/empty': { dir: true },
      'reports/unit/junit.xml': '<x/>',
      'reports/e2e/junit.xml': '<y/>',
      'linked-build': { symlink: 'build' },
      'outside-link': { symlink: '../../..' },
      'ignored.log': 'ignored but untracked',
      'new-file.txt': 'untracked',
    }));
    const git = (...args: string[]): void => {
      execFileSync('git', args, { cwd: projectDir, stdio: 'ignore' });
    };
    git('init', '-q');
    git('add', 'README.md', '.gitignore', 'src/main.c');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'init');
  });
  after(() => env.close());

  async function select(request: Partial<FileSelectionRequest>): Promise<{ paths: string[]; text: string }> {
    const trace = traceCollector();
    const entries = await selectFiles({
      env,
      projectDir,
      variables: [
        { key: 'CI_PROJECT_DIR', value: projectDir },
        { key: 'OUT', value: 'build' },
      ],
      paths: [],
      log: trace.log,
      signal: new AbortController().signal,
      ...request,
    });
    return { paths: entries.map((entry) => entry.path), text: trace.text() };
  }

  it('walks a matched directory recursively, listing directories and files', async () => {
    const { paths, text } = await select({ paths: ['build'] });
    assert.deepEqual(paths, [
      'build',
      'build/app',
      'build/empty',
      'build/obj',
      'build/obj/a.o',
      'build/obj/b.o',
      'build/obj/keep.txt',
    ]);
    assert.match(text, /^build: found 7 matching artifact files and directories$/m);
  });

  it('matches globs with ** and braces', async () => {
    assert.deepEqual((await select({ paths: ['reports/**/junit.xml'] })).paths, [
      'reports/e2e/junit.xml',
      'reports/unit/junit.xml',
    ]);
    assert.deepEqual((await select({ paths: ['build/obj/{a,b}.o'] })).paths, [
      'build/obj/a.o',
      'build/obj/b.o',
    ]);
    assert.deepEqual((await select({ paths: ['**/*.o'] })).paths, ['build/obj/a.o', 'build/obj/b.o']);
  });

  it('expands variables, including an absolute $CI_PROJECT_DIR path', async () => {
    assert.deepEqual((await select({ paths: ['$CI_PROJECT_DIR/${OUT}/app'] })).paths, ['build/app']);
  });

  it('stores a symlink as a symlink and never walks through it', async () => {
    const { paths } = await select({ paths: ['linked-build', 'outside-link'] });
    assert.deepEqual(paths, ['linked-build', 'outside-link']);
    assert.deepEqual((await select({ paths: ['linked-build/*'] })).paths, []);
  });

  it('refuses paths outside the project dir with a warning', async () => {
    const { paths, text } = await select({ paths: ['../../etc', '/etc/passwd'] });
    assert.deepEqual(paths, []);
    assert.match(
      text,
      /^WARNING: processPath: artifact path is not a subpath of project directory: \.\.\/\.\.\/etc$/m,
    );
    assert.match(
      text,
      /^WARNING: processPath: artifact path is not a subpath of project directory: \/etc\/passwd$/m,
    );
  });

  it('warns about paths without matches and empty paths', async () => {
    const { text } = await select({ paths: ['nothing/here', '$UNSET'] });
    assert.ok(
      text.includes(
        `WARNING: nothing/here: no matching files. Ensure that the artifact path is relative to the working directory (${projectDir})`,
      ),
      text,
    );
    assert.match(text, /^WARNING: No matching files\. Path is empty\.$/m);
  });

  it('excludes exact matches only (not recursive) and logs the count', async () => {
    const { paths, text } = await select({ paths: ['build'], exclude: ['build/obj/*.o', 'build/empty'] });
    assert.deepEqual(paths, ['build', 'build/app', 'build/obj', 'build/obj/keep.txt']);
    assert.match(text, /^build\/obj\/\*\.o: excluded 2 files$/m);
    const directoryOnly = await select({ paths: ['build'], exclude: ['build/obj'] });
    assert.ok(directoryOnly.paths.includes('build/obj/a.o'), 'excluding a directory keeps its contents');
  });

  it('adds untracked files from git, .gitignored ones included', async () => {
    const { paths, text } = await select({ untracked: true });
    assert.ok(paths.includes('new-file.txt'));
    assert.ok(
      paths.includes('ignored.log'),
      'gitlab-runner uses `git ls-files -o` without --exclude-standard',
    );
    assert.ok(paths.includes('build/obj/a.o'));
    assert.ok(!paths.includes('README.md'));
    assert.ok(!paths.includes('src/main.c'));
    assert.match(text, /^untracked: found \d+ files$/m);
  });

  it('warns when the selection reaches into .git', async () => {
    const { text } = await select({ paths: ['.git/HEAD'] });
    assert.match(text, /WARNING: Part of \.git directory is on the list of files to archive/);
  });
});
