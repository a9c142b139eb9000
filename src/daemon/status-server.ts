// The listen_address server: /metrics (Prometheus text) and /healthz.
import { createServer, type Server } from 'node:http';
import { TartError } from '../errors.js';
import type { DaemonMetrics } from './metrics.js';

export interface StatusServer {
  readonly address: string;
  close(): Promise<void>;
}

/** Starts the status server on `listenAddress` ("host:port", ":port" or "[::1]:port"). */
export async function startStatusServer(options: {
  listenAddress: string;
  metrics: DaemonMetrics;
  health: () => { healthy: boolean; detail: Record<string, unknown> };
}): Promise<StatusServer> {
  const { host, port } = parseListenAddress(options.listenAddress);
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      options.metrics.render().then(
        (text) => response.writeHead(200, { 'Content-Type': options.metrics.registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
    } else if (path === '/healthz') {
      const { healthy, detail } = options.health();
      response
        .writeHead(healthy ? 200 : 503, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ status: healthy ? 'ok' : 'unhealthy', ...detail }));
    } else {
      response.writeHead(404).end();
    }
  });
  await listen(server, host, port);
  const bound = server.address();
  const address = typeof bound === 'object' && bound ? `${bound.address.includes(':') ? `[${bound.address}]` : bound.address}:${bound.port}` : options.listenAddress;
  return {
    address,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Splits gitlab-runner's listen_address forms into host and port. */
export function parseListenAddress(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TartError('LISTEN_ADDRESS_INVALID', `listen_address "${value}" is not host:port`);
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

// Resolves once the server listens, rejects on EADDRINUSE and the like.
function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) =>
      reject(new TartError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${error.message}`, { cause: error })),
    );
    server.listen(port, host, () => resolve());
  });
}
