// The SSH GuestChannel: one SSH connection to a guest, one SSH channel per command. Each command runs as
// a job of its own (own process group, pgid recorded in a pid file), so an abort kills the whole tree.
import { constants } from 'node:os';
import { Readable, type Writable } from 'node:stream';
import type ssh2 from 'ssh2';
import { TartError } from '../../errors.js';
import type { ExecOptions, ExecResult } from '../../model/exec.js';
import type { GuestChannel } from '../channel.js';
import { shellJoin, shellQuote } from '../quote.js';

/** Each command's process group id, for an abort to kill the group (left in place: the VM is disposable). */
const PID_FILE_PREFIX = '/run/tart-exec-';

export class GuestSession implements GuestChannel {
  private nextId = 0;
  private closed = false;

  constructor(private readonly client: ssh2.Client) {
    client.on('close', () => (this.closed = true));
  }

  /** Runs one command to completion (ExecOptions semantics: streams are never ended). */
  async exec(options: ExecOptions): Promise<ExecResult> {
    options.signal?.throwIfAborted();
    if (this.closed) throw new TartError('GUEST_DISCONNECTED', 'the SSH connection to the guest is closed');
    const pidFile = `${PID_FILE_PREFIX}${process.pid}-${(this.nextId += 1)}.pid`;
    const channel = await this.openChannel(wrapCommand(options, pidFile));
    return new Promise<ExecResult>((resolve, reject) => {
      let exitCode: number | undefined;
      let aborted = false;
      let inputError: unknown;
      const onAbort = () => {
        aborted = true;
        void this.killGroup(pidFile).finally(() => channel.close());
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      channel.on('exit', (code: number | null, signalName?: string) => {
        exitCode = code ?? 128 + signalNumber(signalName);
      });
      const outputs = [pump(channel, options.stdout), pump(channel.stderr, options.stderr)];
      channel.on('close', () => {
        options.signal?.removeEventListener('abort', onAbort);
        void Promise.all(outputs).then(() => {
          if (aborted) return reject(options.signal?.reason ?? new TartError('ABORTED', 'aborted'));
          if (inputError !== undefined) return reject(stdinFailed(options.command[0], inputError));
          if (exitCode === undefined) {
            return reject(new TartError('GUEST_CHANNEL_LOST', 'the guest closed the channel without an exit status'));
          }
          resolve({ exitCode });
        });
      });
      // A stdin source that fails must not look like a clean end of input to the command.
      feedStdin(channel, options.stdin, (error) => {
        inputError = error;
        void this.killGroup(pidFile).finally(() => channel.close());
      });
    });
  }

  /** Ends the connection. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.end();
  }

  private openChannel(command: string): Promise<ssh2.ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) =>
        error ? reject(new TartError('GUEST_EXEC_FAILED', `cannot open a channel: ${error.message}`, { cause: error })) : resolve(channel),
      );
    });
  }

  // Kills the command's whole process group, through a channel of its own.
  private async killGroup(pidFile: string): Promise<void> {
    if (this.closed) return;
    const script = `read -r pid <${shellQuote(pidFile)} 2>/dev/null && kill -KILL -- -"$pid" 2>/dev/null`;
    try {
      const channel = await this.openChannel(script);
      await new Promise<void>((resolve) => {
        channel.on('close', () => resolve());
        channel.resume();
        channel.stderr.resume();
        channel.end();
      });
    } catch {
      // The connection is gone: the VM is about to be destroyed anyway.
    }
  }
}

// One shell, no helper processes: the login shell (bash) starts the command as a job with job
// control on (`set -m`), so it gets its own process group (pgid = its pid, recorded for
// killGroup) and keeps the channel's stdin; `cd`, the variables, the pid file and `wait` are
// builtins. (The previous wrapper ran mkdir, setsid, sh and env around every command, and rm
// after it: four to five execs, ~80 ms each under TCG.) `wait`'s own "Killed" notices are muted.
function wrapCommand(options: ExecOptions, pidFile: string): string {
  const env = Object.entries(options.env ?? {});
  const assignable = env.every(([key]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(key));
  const assignments = assignable ? env.map(([key, value]) => `${key}=${shellQuote(value)} `).join('') : '';
  const argv =
    assignable || env.length === 0
      ? options.command
      : ['env', '--', ...env.map(([key, value]) => `${key}=${value}`), ...options.command];
  const cd = options.cwd ? `cd ${shellQuote(options.cwd)} || exit 1; ` : '';
  return `${cd}set -m; ${assignments}${shellJoin(argv)} & set +m; echo $! >${shellQuote(pidFile)}; wait $! 2>/dev/null`;
}

function feedStdin(channel: ssh2.ClientChannel, stdin: ExecOptions['stdin'], onError: (error: unknown) => void): void {
  if (stdin === undefined) return void channel.end();
  if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) return void channel.end(stdin);
  const source = stdin instanceof Readable ? stdin : Readable.from(stdin);
  source.once('error', (error) => {
    source.unpipe(channel);
    onError(error);
  });
  source.pipe(channel);
}

function stdinFailed(command: string | undefined, cause: unknown): TartError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new TartError('EXEC_STDIN_FAILED', `stdin of ${command ?? 'the command'} failed: ${reason}`, { cause });
}

// Copies a channel stream into `target` with backpressure; resolves at the stream's end.
function pump(source: NodeJS.ReadableStream & { pause(): unknown; resume(): unknown }, target: Writable | undefined): Promise<void> {
  return new Promise((resolve) => {
    source.on('data', (chunk: Buffer) => {
      if (!target) return;
      if (!target.write(chunk)) {
        source.pause();
        target.once('drain', () => source.resume());
      }
    });
    source.on('end', () => resolve());
    source.on('close', () => resolve());
  });
}

function signalNumber(name: string | undefined): number {
  if (!name) return 0;
  const key = (name.startsWith('SIG') ? name : `SIG${name}`) as keyof typeof constants.signals;
  return constants.signals[key] ?? 1;
}
