// The one seam through which src/net runs `ip`, `nft` and `tee` (for sysctls). Every command can
// run inside a named network namespace: `ip -n <ns>` for iproute2 (no extra exec), otherwise
// `ip netns exec <ns> …`. Tests and the CLI pass a netns; the daemon uses the host's.
import { TartError } from '../errors.js';
import { runCollect } from '../process/run.js';

export interface NetCommand {
  argv: string[];
  /** Text written to the child's stdin (nft -f -, ip -batch -, tee). */
  input?: string;
}

export interface NetCommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs one command to completion; never throws for a non-zero exit. */
export type NetCommandRunner = (command: NetCommand) => Promise<NetCommandResult>;

/** Where commands run: the runner, and the netns (absent = the caller's own namespace). */
export interface NetContext {
  run: NetCommandRunner;
  netns?: string;
}

export const spawnNetCommand: NetCommandRunner = async ({ argv, input }) => {
  const [file, ...args] = argv;
  if (file === undefined) throw new TartError('NET_COMMAND_FAILED', 'empty command');
  try {
    // ip and nft need the CAP_NET_ADMIN a non-root daemon may hold as an ambient capability.
    const result = await runCollect({ command: file, args, keepCapabilities: true, ...(input === undefined ? {} : { input }) });
    return {
      exitCode: result.exitCode,
      stdout: result.stdout.toString('utf8'),
      stderr: result.stderr.toString('utf8'),
    };
  } catch (cause) {
    const error = cause as NodeJS.ErrnoException;
    const code = error.code === 'ENOENT' ? 'NET_TOOL_MISSING' : 'NET_COMMAND_FAILED';
    throw new TartError(code, `cannot run ${file}: ${error.message}`, { cause: error });
  }
};

export function defaultNetContext(netns?: string): NetContext {
  return netns === undefined ? { run: spawnNetCommand } : { run: spawnNetCommand, netns };
}

/** The argv that runs `argv` inside `netns`. */
export function inNetns(argv: string[], netns: string | undefined): string[] {
  if (netns === undefined) return argv;
  if (argv[0] === 'ip') return ['ip', '-n', netns, ...argv.slice(1)];
  return ['ip', 'netns', 'exec', netns, ...argv];
}

/** Runs a command in the context's netns; the result, whatever the exit code. */
export function runNet(context: NetContext, argv: string[], input?: string): Promise<NetCommandResult> {
  return context.run({ argv: inNetns(argv, context.netns), ...(input === undefined ? {} : { input }) });
}

/** Runs a command and throws NET_COMMAND_FAILED on a non-zero exit. */
export async function runNetChecked(context: NetContext, argv: string[], input?: string): Promise<string> {
  const result = await runNet(context, argv, input);
  if (result.exitCode !== 0) {
    throw new TartError(
      'NET_COMMAND_FAILED',
      `${argv.join(' ')} exited with ${result.exitCode}: ${result.stderr.trim()}`,
      {
        details: { argv, exitCode: result.exitCode, stderr: result.stderr, netns: context.netns },
      },
    );
  }
  return result.stdout;
}
