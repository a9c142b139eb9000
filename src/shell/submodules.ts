// Submodule update lines for GIT_SUBMODULE_STRATEGY normal/recursive (job-execution §3.5).
import type { GitSettings } from '../model/git-settings.js';
import { echoNotice, echoWarning } from './echo.js';
import { shellCommand } from './escape.js';

const WITH_CREDENTIALS = 'git -c include.path="$GLR_EXT_GIT_CONFIG_PATH"';

/** BODY lines that init, sync, update and clean submodules, retrying the update once. */
export function submoduleLines(settings: GitSettings): string[] {
  if (settings.submoduleStrategy === 'none') return [echoNotice('Skipping Git submodules setup')];
  const recursive = settings.submoduleStrategy === 'recursive' ? ['--recursive'] : [];
  const paths = settings.submodulePaths.length > 0 ? ['--', ...settings.submodulePaths] : [];
  const depth = settings.submoduleDepth > 0 ? ['--depth', String(settings.submoduleDepth)] : [];
  const cleanFlags = settings.cleanFlags.length > 0 ? settings.cleanFlags : ['-ffdx'];
  const sync = shellCommand('git', 'submodule', 'sync', ...recursive, ...paths);
  const foreach = (...command: string[]): string =>
    shellCommand('git', 'submodule', 'foreach', ...recursive, ...command);
  const update = `${WITH_CREDENTIALS} ${shellCommand('submodule', 'update', '--init', ...recursive, ...depth, ...settings.submoduleUpdateFlags, ...paths)}`;
  const remoteFetch = settings.submoduleUpdateFlags.includes('--remote')
    ? [
        `${WITH_CREDENTIALS} ${shellCommand('submodule', 'foreach', ...recursive, 'git', 'fetch', 'origin', '+refs/heads/*:refs/remotes/origin/*')}`,
      ]
    : [];
  return [
    echoNotice(updatingMessage(settings)),
    shellCommand('git', 'submodule', 'init'),
    sync,
    foreach('git', 'clean', ...cleanFlags),
    foreach('git', 'reset', '--hard'),
    `if ${update} ; then`,
    echoNotice('Updated submodules'),
    sync,
    'else',
    echoWarning('Updating submodules failed. Retrying...'),
    ...remoteFetch,
    sync,
    update,
    foreach('git', 'reset', '--hard'),
    'fi',
    foreach('git', 'clean', ...cleanFlags),
    echoNotice('Configuring submodules to use parent git credentials...'),
    'git submodule foreach --recursive git config --replace-all include.path "$GLR_EXT_GIT_CONFIG_PATH"',
    ...(settings.lfsSkipSmudge
      ? []
      : [
          'if git lfs version >/dev/null 2>&1; then',
          echoNotice('Pulling LFS files...'),
          `${WITH_CREDENTIALS} ${shellCommand('submodule', 'foreach', ...recursive, 'git', 'lfs', 'pull')}`,
          'fi',
        ]),
  ];
}

// "Updating/initializing submodules[ recursively][ with git depth set to N]..."
function updatingMessage(settings: GitSettings): string {
  const recursively = settings.submoduleStrategy === 'recursive' ? ' recursively' : '';
  const depth = settings.submoduleDepth > 0 ? ` with git depth set to ${settings.submoduleDepth}` : '';
  return `Updating/initializing submodules${recursively}${depth}...`;
}
