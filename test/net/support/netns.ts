// Network namespaces for src/net tests: every test builds its own "host", "outside" and "guest"
// namespaces (never touching the machine's interfaces) and removes them, and the processes it
// started inside them, when done.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export interface NetnsSandbox {
  /** Creates `tart-test-<id>-<tag>` with lo up. */
  add(tag: string): string;
  /** Runs a command inside a namespace (synchronously; for setup and probes). */
  exec(netns: string, argv: string[], input?: string): { code: number; stdout: string; stderr: string };
  /** Starts a fixture server inside a namespace and waits for its "ready" line. */
  start(netns: string, fixture: string, args: string[]): Promise<ChildProcess>;
  /**
   * A veth between two namespaces, both ends up: `a` gets 192.0.2.1/24 on up0, `b` 192.0.2.2/24
   * on up1 (TEST-NET-1: a "host" and the "outside" world it reaches).
   */
  link(a: string, b: string): void;
  /** Kills started processes and deletes every namespace it made. */
  dispose(): void;
}

export function createNetnsSandbox(): NetnsSandbox {
  const id = randomBytes(3).toString('hex');
  const namespaces: string[] = [];
  const children: ChildProcess[] = [];
  const sandbox: NetnsSandbox = {
    add(tag) {
      const name = `tart-test-${id}-${tag}`;
      run(['ip', 'netns', 'add', name]);
      namespaces.push(name);
      run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
      return name;
    },
    exec(netns, argv, input) {
      const result = spawnSync('ip', ['netns', 'exec', netns, ...argv], { input, encoding: 'utf8' });
      return { code: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
    },
    async start(netns, fixture, args) {
      const script = fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url));
      const child = spawn('ip', ['netns', 'exec', netns, process.execPath, script, ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        let output = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('ready')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`${fixture} exited with ${code} before it was ready`)));
      });
      return child;
    },
    link(a, b) {
      run(['ip', 'link', 'add', 'up0', 'netns', a, 'type', 'veth', 'peer', 'name', 'up1', 'netns', b]);
      for (const [netns, address, dev] of [
        [a, '192.0.2.1/24', 'up0'],
        [b, '192.0.2.2/24', 'up1'],
      ] as const) {
        sandbox.exec(netns, ['ip', 'addr', 'add', address, 'dev', dev]);
        sandbox.exec(netns, ['ip', 'link', 'set', dev, 'up']);
      }
    },
    dispose() {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      for (const name of namespaces.reverse()) spawnSync('ip', ['netns', 'del', name]);
    },
  };
  return sandbox;
}

/** Runs a command (outside any namespace) and throws on failure. */
export function run(argv: string[], input?: string): string {
  const [file = '', ...args] = argv;
  const result = spawnSync(file, args, { input, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Runs `argv` inside `netns` to completion; its stdout, or a rejection with its stderr. */
export function runInNetns(netns: string, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (process.env.TART_TEST_VERBOSE) process.stderr.write(chunk);
    });
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}\n${stdout}`)),
    );
  });
}
