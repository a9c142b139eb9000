// A loopback GitLab that implements PATCH /jobs/:id/trace and PUT /jobs/:id as §4.2/§5.2 describe,
// with fault injection for the trace sender's tests and the trace benchmark.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

export type TraceFault =
  /** Answer 500 without storing. */
  | 'error-500'
  /** Store the bytes, then drop the connection before answering. */
  | 'store-then-drop'
  /** Drop the connection without storing. */
  | 'drop'
  /** Answer 416 with the real size even though the range would have matched. */
  | 'spurious-416'
  /** Forget the whole log and answer 416 with `Range: 0-0` (the runner must resend from 0). */
  | 'lose-log';

export interface TraceServerOptions {
  jobId: number;
  jobToken: string;
  /** Faults by PATCH index (0-based). */
  faults?: Record<number, TraceFault>;
  /** `Job-Status` sent on every answer (default `running`). */
  jobStatus?: () => string;
  updateIntervalSeconds?: number;
  /** Do not keep the log, only its size and CRC (for big benchmarks). */
  countOnly?: boolean;
}

export interface TraceServer {
  url: string;
  log(): Buffer;
  size(): number;
  crc(): number;
  patches: Array<{ start: number; length: number; contentRange: string; status: number }>;
  puts: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startTraceServer(options: TraceServerOptions): Promise<TraceServer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let crc = 0;
  const patches: TraceServer['patches'] = [];
  const puts: TraceServer['puts'] = [];
  const status = (): string => options.jobStatus?.() ?? 'running';

  const store = (data: Buffer): void => {
    if (!options.countOnly) chunks.push(data);
    crc = zlib.crc32(data, crc);
    size += data.length;
  };

  const handlePatch = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const index = patches.length;
    const contentRange = String(req.headers['content-range'] ?? '');
    const start = Number(contentRange.split('-')[0]);
    const record = { start, length: body.length, contentRange, status: 0 };
    patches.push(record);
    const answer = (code: number, headers: Record<string, string> = {}): void => {
      record.status = code;
      res.writeHead(code, { 'Job-Status': status(), ...headers });
      res.end();
    };
    if (req.headers['job-token'] !== options.jobToken) return answer(403);
    if (!/^\d+-\d+$/.test(contentRange)) return answer(400);
    const current = status();
    if (current !== 'running' && current !== 'canceling') return answer(403);
    const fault = options.faults?.[index];
    if (fault === 'error-500') return answer(500);
    if (fault === 'drop') return void res.socket?.destroy();
    if (fault === 'lose-log') {
      chunks.length = 0;
      size = 0;
      crc = 0;
      return answer(416, { Range: '0-0' });
    }
    if (fault === 'spurious-416' || start !== size) return answer(416, { Range: `0-${size}` });
    store(body);
    if (fault === 'store-then-drop') return void res.socket?.destroy();
    const interval: Record<string, string> = options.updateIntervalSeconds
      ? { 'X-GitLab-Trace-Update-Interval': String(options.updateIntervalSeconds) }
      : {};
    answer(202, { Range: `0-${size}`, ...interval });
  };

  const server = http.createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method === 'PATCH' && path === `/api/v4/jobs/${options.jobId}/trace`)
        return handlePatch(req, res, Buffer.concat(body));
      if (req.method === 'PUT' && path === `/api/v4/jobs/${options.jobId}`) {
        puts.push(JSON.parse(Buffer.concat(body).toString('utf8')) as Record<string, unknown>);
        res.writeHead(200, { 'Job-Status': status() });
        return void res.end('200');
      }
      res.writeHead(404);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    log: () => Buffer.concat(chunks),
    size: () => size,
    crc: () => crc,
    patches,
    puts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
