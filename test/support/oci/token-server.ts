// A registry token service on 127.0.0.1, as Docker Hub's auth.docker.io works (distribution's
// token spec, docs/spec/auth/token.md): `GET /token?service=…&scope=repository:<name>:<actions>`
// with HTTP Basic credentials (or none) answers a JWT that docker-registry's `auth: token:` trusts
// through `rootcertbundle`. Known users get what they ask for; anonymous requests get no access,
// so the registry refuses them (401), as a private repository on Docker Hub does. It runs as a
// process of its own (`main` below), like a real auth service: a test's synchronous skopeo push
// must not block it. Each request it answers is appended to `requests.jsonl` in its dir.
import { execFileSync, spawn } from 'node:child_process';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TokenServer {
  /** The realm the registry's 401 challenge names. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM of the certificate whose key signs the tokens (the registry's rootcertbundle). */
  certFile: string;
  /** Token requests answered so far: `user` (or "anonymous") and the scopes asked for. */
  requests(): Array<{ user: string; scopes: string[] }>;
  close(): Promise<void>;
}

const SERVICE = 'tart-test-registry';
const ISSUER = 'tart-test-issuer';

/** Starts the service as a child process, with its signing key, certificate and log in `dir`. */
export async function startTokenServer(dir: string, users: Record<string, string>): Promise<TokenServer> {
  const certFile = join(dir, 'token-signing.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=tart-test-token-issuer', '-keyout', join(dir, 'token-signing.key'), '-out', certFile],
    { stdio: 'ignore' },
  );
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(JSON.stringify(users));
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /^listening (\d+)\n/.exec(output);
      if (ready) resolve(Number(ready[1]));
    });
    child.once('exit', (code) => reject(new Error(`the token service exited with ${code}`)));
  });
  const log = join(dir, 'requests.jsonl');
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service: SERVICE,
    issuer: ISSUER,
    certFile,
    requests: () => {
      const text = (() => {
        try {
          return readFileSync(log, 'utf8');
        } catch {
          return '';
        }
      })();
      return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { user: string; scopes: string[] });
    },
    close: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

// The service process: users arrive as JSON on stdin.
async function main(dir: string): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const users = JSON.parse(input) as Record<string, string>;
  const key = readFileSync(join(dir, 'token-signing.key'), 'utf8');
  const certDer = new X509Certificate(readFileSync(join(dir, 'token-signing.pem'))).raw.toString('base64');
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const user = basicUser(request, users);
    if (url.pathname !== '/token' || url.searchParams.get('service') !== SERVICE || user === null) {
      response.writeHead(url.pathname === '/token' && user === null ? 401 : 404).end();
      return;
    }
    const scopes = url.searchParams.getAll('scope');
    appendFileSync(join(dir, 'requests.jsonl'), `${JSON.stringify({ user: user ?? 'anonymous', scopes })}\n`);
    const access = user === undefined ? [] : scopes.flatMap(grantOf);
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(
      { alg: 'RS256', typ: 'JWT', x5c: [certDer] },
      { iss: ISSUER, sub: user ?? '', aud: SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access },
      key,
    );
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date(now * 1000).toISOString() }));
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv[2]!);

// undefined: anonymous; null: credentials that are wrong.
function basicUser(request: IncomingMessage, users: Record<string, string>): string | undefined | null {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, encoded = ''] = header.split(' ');
  if (scheme?.toLowerCase() !== 'basic') return null;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  return colon > 0 && users[user] === decoded.slice(colon + 1) ? user : null;
}

// "repository:tools/busybox:pull,push" → one access entry.
function grantOf(scope: string): Array<{ type: string; name: string; actions: string[] }> {
  const [type, ...rest] = scope.split(':');
  const actions = rest.pop()?.split(',') ?? [];
  return type && rest.length > 0 ? [{ type, name: rest.join(':'), actions }] : [];
}

function signJwt(header: object, claims: object, privateKeyPem: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode(header)}.${encode(claims)}`;
  const signature = createSign('RSA-SHA256').update(body).sign(privateKeyPem).toString('base64url');
  return `${body}.${signature}`;
}
