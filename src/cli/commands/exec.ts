// `tart exec [JOB...]`: run the local .gitlab-ci.yml through the job engine and an executor.
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { hasCode, UserError } from '../../errors.js';
import { hostDefaults } from '../../config/paths.js';
import {
  DEFAULT_SERVER_HOST,
  EXEC_EXECUTOR_KINDS,
  execExecutorFactory,
  type ExecExecutorKind,
} from '../../exec/executors.js';
import { formatJobList, planLocalPipeline, previewConfiguration } from '../../exec/inspect.js';
import { runExec } from '../../exec/run-exec.js';
import { runJob } from '../../job/run-job.js';
import type { CancelReason } from '../../job/types.js';
import { contextOf } from '../context.js';
import { tartRevision, tartVersion } from '../version.js';
import { preflightExecutor, realDoctorHost } from '../../doctor/index.js';

interface ExecFlags {
  executor: ExecExecutorKind;
  file: string;
  variable: string[];
  list?: boolean;
  preview?: boolean;
  needs?: boolean;
  dirty?: boolean;
  concurrency?: number;
  cwd?: string;
  serverHost?: string;
  bindAddress?: string;
  cacheDir?: string;
  buildsDir?: string;
  image?: string;
}

export function registerExecCommand(program: Command): void {
  program
    .command('exec')
    .description('run the jobs of a local .gitlab-ci.yml with the same engine and executors as `tart run`')
    .argument('[jobs...]', 'jobs to run (default: the whole pipeline); manual jobs run only when named')
    .addOption(
      new Option('--executor <executor>', 'where jobs run').choices(EXEC_EXECUTOR_KINDS).default('qemu'),
    )
    .option('-f, --file <path>', 'CI file, relative to the repository root', '.gitlab-ci.yml')
    .option(
      '--variable <KEY=VALUE>',
      'a pipeline variable (repeatable); wins over YAML variables',
      collect,
      [],
    )
    .option('--list', 'list the jobs with their stage and when, and exit')
    .option('--preview', 'print the configuration after include, extends, !reference and defaults, and exit')
    .option('--needs', 'also run the jobs the named jobs need (transitively)')
    .option('--dirty', 'include uncommitted changes (snapshotted; the branch and index are not touched)')
    .option(
      '--concurrency <n>',
      'jobs run at once (default: two per CPU for shell; 1 for VMs)',
      parsePositive,
    )
    .option('--cwd <dir>', 'run as if started in this directory')
    .option(
      '--server-host <host>',
      'host jobs use to reach the local git server (default: 127.0.0.1, which QEMU user-mode guests reach as 10.0.2.2)',
    )
    .option('--bind-address <address>', 'address the local git server listens on', '127.0.0.1')
    .option('--cache-dir <dir>', 'local cache store (default: ~/.cache/tart/exec/cache)')
    .option(
      '--builds-dir <dir>',
      'builds dir root for the shell executor (default: ~/.cache/tart/exec/builds)',
    )
    .option('--image <dir>', 'VM image directory (default: the current image)')
    .action(async (jobs: string[], flags: ExecFlags, command: Command) => {
      const context = contextOf(command);
      const cwd = resolve(flags.cwd ?? process.cwd());
      const variables = flags.variable.map(parseVariable);
      const inspect = {
        cwd,
        file: flags.file,
        dirty: flags.dirty === true,
        variables,
        version: tartVersion(),
      };
      if (flags.preview) {
        context.stdout.write(await previewConfiguration(inspect));
        return;
      }
      if (flags.list) {
        context.stdout.write(formatJobList(await planLocalPipeline(inspect)));
        return;
      }
      const stateRoot =
        context.host.uid === 0
          ? '/var/cache/tart/exec'
          : join(context.host.home || tmpdir(), '.cache', 'tart', 'exec');
      const buildsRoot = resolve(flags.buildsDir ?? join(stateRoot, 'builds'));
      const executorForSlot = execExecutorFactory({
        kind: flags.executor,
        buildsRoot,
        defaults: hostDefaults(context.host),
        image: flags.image,
      });
      await preflightExecutor(flags.executor, realDoctorHost(context.host));
      checkExecutorAvailable(() => executorForSlot(0));
      const cancel = new AbortController();
      const onSignal = () => cancel.abort({ kind: 'canceled' } satisfies CancelReason);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const { exitCode } = await runExec({
          cwd,
          file: flags.file,
          jobs,
          withNeeds: flags.needs === true,
          dirty: flags.dirty === true,
          concurrency: flags.concurrency ?? defaultConcurrency(flags.executor),
          variables,
          executorForSlot,
          slotLockDir: join(buildsRoot, '.locks'),
          serverHost: flags.serverHost ?? DEFAULT_SERVER_HOST,
          bindAddress: flags.bindAddress,
          cacheDir: resolve(flags.cacheDir ?? join(stateRoot, 'cache')),
          version: tartVersion(),
          revision: tartRevision(),
          streams: {
            stdout: context.stdout,
            stderr: context.stderr,
            isTTY: (context.stdout as { isTTY?: boolean }).isTTY === true && !context.env.NO_COLOR,
          },
          signal: cancel.signal,
          runJob: (options) => runJob(options),
        });
        if (exitCode !== 0) throw new UserError('EXEC_PIPELINE_FAILED', 'pipeline failed');
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

// Shell jobs follow the machine: two per CPU, as they spend much of their time waiting on git and
// process start-up. Each VM needs a core and memory of its own.
function defaultConcurrency(executor: ExecExecutorKind): number {
  return executor === 'shell' ? 2 * availableParallelism() : 1;
}

// Creating the executor fails early (before a server starts) when this build lacks it.
function checkExecutorAvailable(create: () => unknown): void {
  try {
    create();
  } catch (error) {
    if (hasCode(error, 'EXECUTOR_UNAVAILABLE')) {
      throw new UserError('EXECUTOR_UNAVAILABLE', `${error.message}; try --executor shell`, { cause: error });
    }
    throw error;
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseVariable(text: string): { key: string; value: string } {
  const equals = text.indexOf('=');
  if (equals <= 0) throw new UserError('BAD_FLAG', `--variable expects KEY=VALUE, got "${text}"`);
  return { key: text.slice(0, equals), value: text.slice(equals + 1) };
}

function parsePositive(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new UserError('BAD_FLAG', `expected a whole number of at least 1, got "${value}"`);
  return number;
}
