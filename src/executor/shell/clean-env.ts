// The environment a shell job starts from: what a login shell of the runner's user would have,
// and nothing of the daemon's own (CI_SERVER_TOKEN set for `register`, TART_* settings,
// NODE_OPTIONS, proxies with credentials…). Everything a job needs arrives as job variables.
// gitlab-runner's shell executor passes its whole environment on; Tart deliberately does not.
import { DEFAULT_PATH } from '../../model/defaults.js';

const KEPT = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'LC_ALL', 'TZ', 'TMPDIR'];

/** The job's base environment, taken from `daemonEnv` (default process.env). */
export function cleanJobEnvironment(daemonEnv: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(daemonEnv)) {
    if (value !== undefined && (KEPT.includes(key) || key.startsWith('LC_'))) env[key] = value;
  }
  env.PATH ??= DEFAULT_PATH;
  return env;
}
