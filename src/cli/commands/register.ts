// `tart register`: turns a token into a [[runners]] entry. A `glrt-` token was created in GitLab's
// UI/API and is only verified (POST /runners/verify); any other token is a legacy registration
// token exchanged for a runner token (POST /runners). The entry is appended and saved atomically.
import { Command, Option } from 'commander';
import { UserError } from '../../errors.js';
import { loadConfigOrEmpty } from '../../config/load.js';
import { hostDefaults } from '../../config/paths.js';
import { newRunnerConfig } from '../../config/runner-defaults.js';
import { saveConfig } from '../../config/save.js';
import { loadOrCreateSystemId } from '../../config/system-id.js';
import { EXECUTORS, type RunnerConfig } from '../../config/types.js';
import {
  isAuthenticationToken,
  registerRunner,
  unregisterRunner,
  unregisterRunnerManager,
  verifyRunner,
} from '../../gitlab/registration.js';
import { contextOf, globalOptions, type CliContext } from '../context.js';
import { connectionOf, gitLabFailure } from '../runners.js';

interface RegisterFlags {
  nonInteractive?: boolean;
  url?: string;
  token?: string;
  registrationToken?: string;
  name?: string;
  description?: string;
  executor?: string;
  tagList?: string;
  runUntagged?: boolean;
  locked?: boolean;
  paused?: boolean;
  maximumTimeout?: string;
  accessLevel?: 'not_protected' | 'ref_protected';
  limit?: string;
  requestConcurrency?: string;
  outputLimit?: string;
  buildsDir?: string;
  cacheDir?: string;
  cloneUrl?: string;
  tlsCaFile?: string;
  env?: string[];
}

/** Flags that only make sense when GitLab creates the runner (legacy tokens); glrt- runners are set up in GitLab. */
const LEGACY_ONLY_FLAGS: [keyof RegisterFlags, string][] = [
  ['tagList', '--tag-list'],
  ['runUntagged', '--run-untagged'],
  ['locked', '--locked'],
  ['paused', '--paused'],
  ['maximumTimeout', '--maximum-timeout'],
  ['accessLevel', '--access-level'],
];

export function registerRegisterCommand(program: Command): void {
  program
    .command('register')
    .description('register a runner with GitLab and add it to config.toml')
    .option('-n, --non-interactive', 'never prompt (the only mode Tart has)')
    .option('-u, --url <url>', 'GitLab URL ($CI_SERVER_URL)')
    .option(
      '-t, --token <token>',
      'runner authentication token (glrt-…) or registration token ($CI_SERVER_TOKEN)',
    )
    .option('-r, --registration-token <token>', 'legacy registration token ($REGISTRATION_TOKEN)')
    .option('--name <name>', 'runner name ($RUNNER_NAME; default: host name)')
    .option('--description <text>', 'same as --name')
    .addOption(
      new Option('--executor <executor>', 'where jobs run ($RUNNER_EXECUTOR; default: qemu)').choices(
        EXECUTORS,
      ),
    )
    .option('--tag-list <tags>', 'comma-separated tags (legacy tokens)')
    .option('--run-untagged', 'also pick untagged jobs (legacy tokens)')
    .addOption(
      new Option('--locked [bool]', 'lock to the project (legacy tokens; default true)').argParser(parseBool),
    )
    .option('--paused', 'register paused (legacy tokens)')
    .option('--maximum-timeout <seconds>', 'maximum job timeout (legacy tokens)')
    .addOption(
      new Option('--access-level <level>', 'legacy tokens').choices(['not_protected', 'ref_protected']),
    )
    .option('--limit <n>', 'max concurrent jobs of this runner (0 = no limit)')
    .option('--request-concurrency <n>', 'max concurrent job requests')
    .option('--output-limit <kib>', 'job log limit in KiB')
    .option('--builds-dir <dir>', 'builds directory')
    .option('--cache-dir <dir>', 'cache directory')
    .option('--clone-url <url>', 'base URL for git clones')
    .option('--tls-ca-file <file>', 'CA certificate file for GitLab')
    .option(
      '--env <KEY=value>',
      'job environment variable (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(async (flags: RegisterFlags, command: Command) => {
      await register(flags, command);
    });
}

async function register(flags: RegisterFlags, command: Command): Promise<void> {
  const context = contextOf(command);
  const { configPath } = globalOptions(command);
  const defaults = hostDefaults(context.host);
  const url = required(flags.url ?? context.env.CI_SERVER_URL, '--url (or $CI_SERVER_URL)');
  const registrationToken = flags.registrationToken ?? context.env.REGISTRATION_TOKEN;
  const token = required(
    flags.token ?? context.env.CI_SERVER_TOKEN ?? registrationToken,
    '--token (or $CI_SERVER_TOKEN)',
  );
  context.logger.addSecret(token);
  const created = registrationToken === undefined && isAuthenticationToken(token);
  if (created) rejectLegacyOnlyFlags(flags);

  const config = await loadConfigOrEmpty(configPath, defaults);
  const systemId = await loadOrCreateSystemId(configPath, {
    onWarning: (message, error) => context.logger.warn(message, { error }),
  });
  const name = flags.name ?? flags.description ?? context.env.RUNNER_NAME ?? defaults.hostname;
  // Validate the local settings before GitLab is asked, so a typo does not leave a runner behind.
  const entry = (credentials: { id: number; token: string; tokenExpiresAt?: string }): RunnerConfig =>
    newRunnerConfig(
      {
        name,
        url,
        id: credentials.id,
        token: credentials.token,
        token_obtained_at: new Date(Math.floor(Date.now() / 1000) * 1000),
        token_expires_at: credentials.tokenExpiresAt,
        executor: flags.executor ?? context.env.RUNNER_EXECUTOR ?? 'qemu',
        limit: integerFlag(flags.limit),
        request_concurrency: integerFlag(flags.requestConcurrency),
        output_limit: integerFlag(flags.outputLimit),
        builds_dir: flags.buildsDir,
        cache_dir: flags.cacheDir,
        clone_url: flags.cloneUrl,
        'tls-ca-file': flags.tlsCaFile,
        environment: flags.env,
      },
      defaults,
    );
  entry({ id: 1, token });

  const connection = connectionOf({ url, tlsCaFile: flags.tlsCaFile });
  const credentials = created
    ? await verifyCreatedRunner(connection, token, systemId)
    : await registerWithRegistrationToken(connection, token, systemId, name, flags);
  context.logger.addSecret(credentials.token);
  const runner = entry(credentials);
  try {
    await saveConfig(configPath, { ...config, runners: [...config.runners, runner] }, defaults);
  } catch (error) {
    await rollBack(context, connection, credentials.token, systemId, created);
    throw error;
  }
  context.stdout.write(
    `Runner registered successfully: "${runner.name}" (id ${runner.id}) in ${configPath}. ` +
      'A running `tart run` picks it up within a few seconds (it reloads config.toml when the file changes).\n',
  );
}

async function verifyCreatedRunner(
  connection: ReturnType<typeof connectionOf>,
  token: string,
  systemId: string,
): Promise<{ id: number; token: string; tokenExpiresAt?: string }> {
  let verified;
  try {
    verified = await verifyRunner({ ...connection, token, systemId });
  } catch (error) {
    throw gitLabFailure(error, 'Verifying the runner token');
  }
  // gitlab-runner treats a verification without a runner id as a failure.
  if (verified.id === undefined || verified.id === 0) {
    throw new UserError('REGISTER_FAILED', 'Verifying the runner token failed: GitLab returned no runner id');
  }
  return {
    id: verified.id,
    token: verified.token ?? token,
    ...(verified.tokenExpiresAt !== undefined ? { tokenExpiresAt: verified.tokenExpiresAt } : {}),
  };
}

async function registerWithRegistrationToken(
  connection: ReturnType<typeof connectionOf>,
  registrationToken: string,
  systemId: string,
  description: string,
  flags: RegisterFlags,
): Promise<{ id: number; token: string; tokenExpiresAt?: string }> {
  const tags = flags.tagList
    ?.split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
  const maximumTimeout = integerFlag(flags.maximumTimeout);
  if (maximumTimeout !== undefined && typeof maximumTimeout !== 'number') {
    throw new UserError(
      'CLI_INVALID_FLAG',
      `--maximum-timeout: expected seconds, got "${flags.maximumTimeout}"`,
    );
  }
  try {
    return await registerRunner({
      ...connection,
      registrationToken,
      description,
      systemId,
      ...(tags !== undefined ? { tags } : {}),
      ...(flags.runUntagged !== undefined ? { runUntagged: flags.runUntagged } : {}),
      ...(flags.locked !== undefined ? { locked: flags.locked } : {}),
      ...(flags.paused !== undefined ? { paused: flags.paused } : {}),
      ...(flags.accessLevel !== undefined ? { accessLevel: flags.accessLevel } : {}),
      ...(maximumTimeout !== undefined ? { maximumTimeout } : {}),
    });
  } catch (error) {
    throw gitLabFailure(error, 'Registering the runner');
  }
}

// Like gitlab-runner: a runner GitLab knows about but config.toml does not is removed again.
async function rollBack(
  context: CliContext,
  connection: ReturnType<typeof connectionOf>,
  token: string,
  systemId: string,
  created: boolean,
): Promise<void> {
  try {
    if (created) await unregisterRunnerManager({ ...connection, token, systemId });
    else await unregisterRunner({ ...connection, token });
  } catch (error) {
    context.logger.warn('Could not remove the runner from GitLab after failing to save it', { error });
  }
}

function rejectLegacyOnlyFlags(flags: RegisterFlags): void {
  const given = LEGACY_ONLY_FLAGS.filter(([key]) => flags[key] !== undefined).map(([, flag]) => flag);
  if (given.length > 0) {
    throw new UserError(
      'REGISTER_FLAG_NOT_ALLOWED',
      `${given.join(', ')} cannot be used with a glrt- runner authentication token: ` +
        'set them on the runner in GitLab instead',
    );
  }
}

function required(value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new UserError('CLI_MISSING_FLAG', `${what} is required`);
  return value;
}

// Digits become numbers; anything else is passed on so the config schema reports it.
function integerFlag(value: string | undefined): number | string | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : value;
}

function parseBool(value: string | undefined): boolean {
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  throw new UserError('CLI_INVALID_FLAG', `expected true or false, got "${value}"`);
}
