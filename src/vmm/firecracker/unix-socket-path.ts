// Linux unix socket paths must fit sun_path: 108 bytes including the terminating NUL. A longer
// path fails deep inside Firecracker (or is silently truncated by some clients), so check first.
import { TartError } from '../../errors.js';

export const MAX_UNIX_SOCKET_PATH_BYTES = 107;

/** Throws FIRECRACKER_SOCKET_PATH_TOO_LONG when `path` does not fit in sun_path. */
export function assertUnixSocketPathFits(path: string, what: string): void {
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes <= MAX_UNIX_SOCKET_PATH_BYTES) return;
  throw new TartError(
    'FIRECRACKER_SOCKET_PATH_TOO_LONG',
    `the ${what} path is ${bytes} bytes, over the ${MAX_UNIX_SOCKET_PATH_BYTES}-byte unix socket limit: ${path} ` +
      '(use a shorter runtime directory, jailer chroot base or VM id)',
    { details: { path, bytes, limit: MAX_UNIX_SOCKET_PATH_BYTES, what } },
  );
}
