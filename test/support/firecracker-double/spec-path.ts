// Where the official Firecracker spec is for tests: ../shared/firecracker/firecracker.yaml from the
// repository root (read-only reference data; CI has it at the same relative place).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import {
  FIRECRACKER_SPEC_RELATIVE_PATH,
  createRequestValidator,
  loadFirecrackerSpec,
  type RequestValidator,
} from './spec-validator.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FIRECRACKER_SPEC_PATH = join(REPO_ROOT, FIRECRACKER_SPEC_RELATIVE_PATH);

let cached: RequestValidator | undefined;

/** The strict validator (unknown fields rejected, like Firecracker's serde structs), built once. */
export function specValidator(): RequestValidator {
  cached ??= createRequestValidator(loadFirecrackerSpec(FIRECRACKER_SPEC_PATH));
  return cached;
}
