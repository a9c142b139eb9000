// Firecracker's --id (and the jailer's) must be 1–64 characters, alphanumeric or hyphen
// (src/utils/src/validators.rs); anything else aborts start-up with "Invalid instance ID".
import { TartError } from '../../errors.js';

const INSTANCE_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Throws FIRECRACKER_INVALID_SPEC unless `id` is a valid Firecracker instance id. */
export function assertInstanceId(id: string): void {
  if (INSTANCE_ID.test(id)) return;
  throw new TartError(
    'FIRECRACKER_INVALID_SPEC',
    `VM id "${id}" is not a valid Firecracker instance id (1–64 of A-Z a-z 0-9 -)`,
    {
      details: { id },
    },
  );
}
