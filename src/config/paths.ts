// Where config.toml and the guest image live by default: one place that reads the host's
// identity (uid, home, hostname, environment), so tests can pass their own.
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import type { HostDefaults } from './fields.js';
import { currentImageDir, defaultImageRoot } from '../image/layout.js';

export interface HostFacts {
  env: NodeJS.ProcessEnv;
  uid: number;
  home: string;
  hostname: string;
}

export function currentHost(): HostFacts {
  return { env: process.env, uid: process.getuid?.() ?? -1, home: homedir(), hostname: hostname() };
}

/** `--config`, else `$TART_CONFIG`, else `/etc/tart/config.toml` as root, `~/.tart/config.toml` otherwise. */
export function resolveConfigPath(flag: string | undefined, host: HostFacts = currentHost()): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = host.env.TART_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return host.uid === 0 ? '/etc/tart/config.toml' : join(host.home, '.tart', 'config.toml');
}

/** The `current` image of the default image root (see defaultImageRoot in src/image/layout.ts:
 * `$TART_IMAGE_DIR`, else /var/lib/tart/images as root, else the user's own image if built, else
 * the system image). */
export function defaultImageDir(host: HostFacts = currentHost(), exists?: (path: string) => boolean): string {
  return currentImageDir(
    defaultImageRoot(host.env, host.uid, { home: host.home, ...(exists ? { exists } : {}) }),
  );
}

/** Defaults of config keys that depend on the host. */
export function hostDefaults(host: HostFacts = currentHost()): HostDefaults {
  return { imageDir: defaultImageDir(host), hostname: host.hostname, env: host.env };
}
