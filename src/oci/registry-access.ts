// How Tart may talk to a registry: TLS always, except loopback registries (Docker always treats
// 127.0.0.0/8 and ::1 as insecure) and hosts listed in insecure_registries (docker executor
// reference §1.5). Credentials are written to a private auth file that lives for one pull.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { registryHostname } from './reference.js';
import { skopeoAuthDocument, type RegistryCredentials } from './registry-auth.js';

export function isInsecureRegistry(registry: string, insecureRegistries: readonly string[]): boolean {
  if (insecureRegistries.includes(registry)) return true;
  const host = registryHostname(registry);
  if (insecureRegistries.includes(host)) return true;
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Runs `use` with a 0600 auth file holding only `registry`'s credentials; removes it after. */
export async function withAuthFile<T>(
  tmpRoot: string,
  registry: string,
  credentials: RegistryCredentials | undefined,
  use: (authFile: string | undefined) => Promise<T>,
): Promise<T> {
  if (!credentials) return use(undefined);
  const dir = await mkdtemp(join(tmpRoot, 'auth-'));
  try {
    const file = join(dir, 'auth.json');
    await writeFile(file, skopeoAuthDocument(registry, credentials), { mode: 0o600, flag: 'wx' });
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
