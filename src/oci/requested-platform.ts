// `image:docker:platform` / `services:docker:platform` (docker executor reference §1.4): parsed
// as containerd's platforms.Parse reads it (`os/arch[/variant]` or a bare arch). Tart's microVMs
// are linux/amd64 and the store always takes an index's linux/amd64 entry, so that is the one
// platform a job may ask for; any other fails the job before anything is pulled.
import { ImagePullError } from './pull-errors.js';

const AMD64_ALIASES = new Set(['amd64', 'x86_64', 'x86-64']);
// A lone OS takes the host's arch in containerd's Parse.
const OPERATING_SYSTEMS = new Set(['linux', 'windows', 'darwin', 'freebsd']);

/** Accepts a platform that names linux/amd64 (variables already expanded); refuses any other. */
export function checkRequestedPlatform(platform: string | undefined, image: string): void {
  if (platform === undefined || platform.trim() === '') return;
  const parts = platform.trim().toLowerCase().split('/');
  if (parts.length > 3 || parts.some((part) => !/^[a-z0-9_.-]+$/.test(part))) {
    throw new ImagePullError('IMAGE_PLATFORM_INVALID', `invalid platform "${platform}" for ${image}`, 'runner_configuration_error');
  }
  const arch = parts.length === 1 ? (OPERATING_SYSTEMS.has(parts[0]!) ? 'amd64' : parts[0]!) : parts[1]!;
  if (!AMD64_ALIASES.has(arch)) {
    throw new ImagePullError('IMAGE_PLATFORM_UNSUPPORTED', `platform "${platform}" for ${image} is not supported: jobs run in linux/amd64 microVMs`, 'runner_configuration_error');
  }
}
