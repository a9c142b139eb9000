// Commands that change the host (image build, network setup) need root: say so before they start,
// instead of failing halfway with a permission error.
import { UserError } from '../errors.js';
import type { CliContext } from './context.js';

export function requireRoot(context: CliContext, command: string, why: string): void {
  if (context.host.uid === 0) return;
  throw new UserError('NEEDS_ROOT', `"tart ${command}" needs root (${why}); run it with sudo`);
}
