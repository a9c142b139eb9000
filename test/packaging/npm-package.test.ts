// The npm package as a user gets it: `npm pack`, then `npm install -g --prefix` from the tarball in
// a directory outside the checkout, and the installed `tart` run with no dev dependency reachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { copyCheckout, CHECKOUT, packTarball } from '../support/package-build.js';

const execFileAsync = promisify(execFile);

test(
  'the npm tarball ships only what runs and installs into a clean prefix',
  // npm pack builds dist/ (tsc) and npm installs from the registry: minutes on a loaded 2-core CI machine.
  { timeout: 900_000 },
  async (context) => {
    // A timed-out test must not leave npm running: it would hold this file open.
    const { signal } = context;
    const build = await copyCheckout();
    try {
      const { tarball, files } = await packTarball(build, signal);
      assert.match(tarball, /tart-gitlab-runner-\d+\.\d+\.\d+\.tgz$/);
      assert.ok(files.includes('dist/cli/main.js'), 'dist/ is built by prepack');
      assert.ok(files.includes('dist/build-info.json'));
      assert.ok(
        files.includes('dist/ci-yaml/generated/ci-schema-validator.js'),
        'the compiled CI schema ships',
      );
      assert.ok(files.includes('bin/tart.js'));
      assert.ok(files.includes('packaging/tart.service'));
      assert.ok(files.includes('docs/configuration.md'));
      assert.ok(files.includes('templates/gitlab/LICENSE'), 'include:template files ship (read at run time)');
      const stray = files.filter(
        (path) =>
          !/^(dist|bin|templates|packaging|docs)\//.test(path) &&
          !['package.json', 'README.md'].includes(path),
      );
      assert.deepEqual(stray, [], 'no sources, tests or tooling');
      assert.deepEqual(
        files.filter((path) => path.endsWith('.map')),
        [],
      );

      const prefix = join(build.dir, 'prefix');
      const home = join(build.dir, 'home');
      await mkdir(home);
      // A clean environment: no NODE_PATH, cwd and HOME outside the checkout; the registry (or npm's
      // cache) provides the runtime dependencies.
      const env = {
        PATH: `${join(prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
        HOME: home,
        npm_config_cache: join(process.env.HOME ?? '/root', '.npm'),
      };
      await execFileAsync(
        'npm',
        // npm waits 5 min on a stalled registry fetch by default; retry a stalled one instead.
        [
          'install',
          '-g',
          '--prefix',
          prefix,
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          '--fetch-timeout=30000',
          '--fetch-retries=5',
          tarball,
        ],
        {
          cwd: build.dir,
          env,
          signal,
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      const installed = join(prefix, 'lib', 'node_modules', 'tart-gitlab-runner');
      await assert.rejects(
        access(join(installed, 'node_modules', 'tsx')),
        'tsx (a dev dependency) is not installed',
      );
      await assert.rejects(access(join(installed, 'src')));
      const tart = (args: string[], cwd: string) =>
        execFileAsync(join(prefix, 'bin', 'tart'), args, { cwd, env, signal });

      const version = await tart(['--version'], build.dir);
      const { version: expected } = JSON.parse(await readFile(join(CHECKOUT, 'package.json'), 'utf8')) as {
        version: string;
      };
      assert.equal(version.stdout, `${expected}\n`);

      const revision = await execFileAsync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `console.log((await import('${installed}/dist/cli/version.js')).tartRevision())`,
        ],
        { cwd: build.dir, env, signal },
      );
      assert.equal(revision.stdout, `${build.revision}\n`, 'the build recorded the git revision');

      const project = join(build.dir, 'sample-project');
      await cp(join(CHECKOUT, 'examples', 'sample-project'), project, { recursive: true });
      for (const args of [
        ['init', '-q'],
        ['add', '.'],
        ['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-qm', 'sample'],
      ])
        await execFileAsync('git', args, { cwd: project, signal });
      const list = await tart(['exec', '--list'], project);
      assert.match(list.stdout, /build/);
      assert.match(list.stdout, /test/);
      assert.match(list.stdout, /package/);

      const templated = join(build.dir, 'templated-project');
      await mkdir(templated);
      await writeFile(join(templated, '.gitlab-ci.yml'), 'include:\n  - template: Bash.gitlab-ci.yml\n');
      for (const args of [
        ['init', '-q'],
        ['add', '.'],
        ['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-qm', 't'],
      ])
        await execFileAsync('git', args, { cwd: templated, signal });
      assert.match(
        (await tart(['exec', '--list'], templated)).stdout,
        /deploy1/,
        'include:template reads the shipped templates',
      );

      const doctor = await tart(['--config', join(home, 'config.toml'), 'doctor'], build.dir).catch(
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      assert.match(doctor.stdout, /^(ok|warn|fail)\s+qemu\s/m, 'doctor ran its checks');
      assert.doesNotMatch(
        `${doctor.stdout}${doctor.stderr}`,
        /Cannot find package|ERR_MODULE_NOT_FOUND|\n\s+at /,
      );
    } finally {
      await build.cleanup();
    }
  },
);
