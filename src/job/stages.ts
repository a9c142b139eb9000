// Running one stage: its section in the trace, then either a bash script in the environment
// (stdout and stderr masked into the trace) or a host-side step (cache, artifacts).
// An aborted exec should reject at once; if the environment hangs, the engine stops waiting
// after a grace, so a cancel still ends the job promptly (env.close() cleans up what is left).
import type { JobEnvironment } from '../executor/types.js';
import { settleWithin } from './abortable.js';
import type { TraceWriter } from './trace-writer.js';

export type StageResult =
  | { kind: 'ok' }
  /** The script exited non-zero. */
  | { kind: 'exit'; exitCode: number }
  /** The stage's signal was aborted (cancel, timeout); the signal's reason says why. */
  | { kind: 'stopped' }
  /** The environment or the host step failed. */
  | { kind: 'error'; error: unknown };

export interface StageSection {
  trace: TraceWriter;
  /** Section name, e.g. "step_script". */
  name: string;
  /** Header printed in cyan, e.g. "Executing "step_script" stage of the job script". */
  description: string;
  signal: AbortSignal;
}

/** How long an aborted stage may take to settle before the engine stops waiting for it. */
export const DEFAULT_ABORT_SETTLE_MS = 1500;

// bash reads a script from a pipe one byte per read(2), so that it never consumes input meant
// for the commands it runs: a 3 MiB stage (one large file variable) then costs seconds per
// stage. This first line is read that way; `cat` then takes the rest of stdin in bulk, and
// the wrapped stage (which runs its body with stdin from /dev/null) is evaluated as one string.
const READ_REST_AT_ONCE = 'eval "$(cat)"\n';

/** Runs `script` on the stdin of a fresh `bash` in the environment. */
export async function runScriptStage(
  input: StageSection & { env: JobEnvironment; script: string; abortSettleMs?: number; command?: readonly string[] },
): Promise<StageResult> {
  const { trace, signal } = input;
  if (signal.aborted) return { kind: 'stopped' };
  trace.sectionStart(input.name, input.description);
  const output = trace.openStageOutput();
  const execution = input.env.exec({
    command: [...(input.command ?? ['bash'])],
    // Another command (a container image's shell detection) does its own bulk read for bash.
    stdin: input.command ? input.script : READ_REST_AT_ONCE + input.script,
    stdout: output.stdout,
    stderr: output.stderr,
    signal,
  });
  const settled = await settleWithin(execution, signal, input.abortSettleMs ?? DEFAULT_ABORT_SETTLE_MS);
  await output.close();
  trace.sectionEnd(input.name);
  if (signal.aborted) return { kind: 'stopped' };
  if ('error' in settled) return { kind: 'error', error: settled.error };
  if ('abandoned' in settled) return { kind: 'stopped' };
  const { exitCode } = settled.value;
  return exitCode === 0 ? { kind: 'ok' } : { kind: 'exit', exitCode };
}

/** Runs a host-side step (cache, artifacts) inside its section. */
export async function runHostStage(
  input: StageSection & { run: () => Promise<void>; abortSettleMs?: number },
): Promise<StageResult> {
  const { trace, signal } = input;
  if (signal.aborted) return { kind: 'stopped' };
  trace.sectionStart(input.name, input.description);
  const settled = await settleWithin(
    Promise.resolve().then(input.run),
    signal,
    input.abortSettleMs ?? DEFAULT_ABORT_SETTLE_MS,
  );
  trace.sectionEnd(input.name);
  if (signal.aborted || 'abandoned' in settled) return { kind: 'stopped' };
  return 'error' in settled ? { kind: 'error', error: settled.error } : { kind: 'ok' };
}
