// A real registry for tests: Debian's docker-registry (the CNCF distribution server) on
// 127.0.0.1 with its storage in a temp dir; optionally with htpasswd basic auth, or with bearer
// tokens from a token service (the flow Docker Hub uses, token-server.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTokenServer, type TokenServer } from './token-server.js';

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  /** With `tokenUsers`: the token service the registry sends clients to. */
  tokens?: TokenServer;
  /** Requests the registry logged, one JSON object per line (for "no layer downloaded" checks). */
  blobGets(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startRegistry(
  options: { users?: Record<string, string>; tokenUsers?: Record<string, string> } = {},
): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'tart-registry-'));
  const port = await freePort();
  const tokens = options.tokenUsers ? await startTokenServer(dir, options.tokenUsers) : undefined;
  const auth = tokens
    ? ['auth:', '  token:', `    realm: ${tokens.realm}`, `    service: ${tokens.service}`, `    issuer: ${tokens.issuer}`, `    rootcertbundle: ${tokens.certFile}`].join('\n')
    : options.users
      ? await writeHtpasswd(dir, options.users)
      : '';
  const config = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: json',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    auth,
  ].join('\n');
  await writeFile(join(dir, 'config.yml'), `${config}\n`);
  const logFile = join(dir, 'registry.log');
  const { openSync } = await import('node:fs');
  const logFd = openSync(logFile, 'a');
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', logFd, logFd] });
  await waitUntilServing(port, child);
  const host = `127.0.0.1:${port}`;
  return {
    host,
    ...(tokens ? { tokens } : {}),
    async blobGets() {
      const { readFile } = await import('node:fs/promises');
      const text = await readFile(logFile, 'utf8');
      return text.split('\n').filter((line) => /"GET \/v2\/[^"]*\/blobs\/sha256:/.test(line));
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
      await tokens?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// The password goes to htpasswd on stdin, never on its command line.
async function writeHtpasswd(dir: string, users: Record<string, string>): Promise<string> {
  const file = join(dir, 'htpasswd');
  const lines: string[] = [];
  for (const [user, password] of Object.entries(users)) {
    const result = spawnSync('htpasswd', ['-niB', user], { input: `${password}\n`, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`htpasswd failed: ${result.stderr}`);
    lines.push(result.stdout.trim());
  }
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return ['auth:', '  htpasswd:', '    realm: tart-test', `    path: ${file}`].join('\n');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilServing(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`);
    const status = await fetch(`http://127.0.0.1:${port}/v2/`).then((response) => response.status, () => 0);
    if (status === 200 || status === 401) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('docker-registry did not start within 15 s');
}
