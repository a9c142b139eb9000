// TEST DOUBLE of a Firecracker process's API server (it is not Firecracker): HTTP/1.1 on a unix
// socket, as strict as micro_http about framing, answering per api-rules.ts, recording every call.
// It also plays the guest side of the hybrid vsock: CONNECT <port> is accepted once the "guest"
// runs and listens on that port.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import type { ApiRequest } from '../../../src/vmm/firecracker/api-client.js';
import { answerRequest, initialVmState, type DoubleAnswer, type DoubleVmState } from './api-rules.js';
import { specValidator } from './spec-path.js';

export type DoubleScenario =
  /** Boots; SendCtrlAltDel makes the "guest" reboot, which ends the process. */
  | 'ok'
  /** InstanceStart answers 400. */
  | 'boot-fail'
  /** The "guest" crashes (panic=1 → reboot → exit 0) shortly after InstanceStart. */
  | 'crash-after-start'
  /** The API accepts connections and never answers. */
  | 'hang'
  /** SendCtrlAltDel is accepted but the guest ignores it (needs SIGKILL). */
  | 'ignore-ctrl-alt-del';

export const DOUBLE_SCENARIOS: readonly DoubleScenario[] = [
  'ok',
  'boot-fail',
  'crash-after-start',
  'hang',
  'ignore-ctrl-alt-del',
];

export interface RecordedCall extends ApiRequest {
  status: number;
  answer?: unknown;
  headers: { contentLength?: string; transferEncoding?: string; accept?: string; contentType?: string };
}

export type DoubleEvent = { kind: 'guest-started' } | { kind: 'ctrl-alt-del' };

export interface FirecrackerDoubleOptions {
  apiSocketPath: string;
  instanceId?: string;
  scenario?: DoubleScenario;
  /** Guest vsock ports that accept CONNECT once the guest runs (default: 22, the SSH bridge). */
  guestVsockPorts?: number[];
  onEvent?: (event: DoubleEvent) => void;
  onCall?: (call: RecordedCall) => void;
}

export interface FirecrackerDouble {
  readonly calls: RecordedCall[];
  readonly state: DoubleVmState;
  close(): Promise<void>;
}

const MAX_HEADER_LINE_BYTES = 1024;
const MAX_BODY_BYTES = 51_200;
export const BOOT_FAILURE_MESSAGE = 'Failed to start microVM: simulated boot failure (firecracker double)';
/** What the fake guest says first on an accepted vsock connection (like sshd would). */
export const FAKE_GUEST_BANNER = 'SSH-2.0-firecracker-double-guest\r\n';

/** Starts the double listening on `apiSocketPath` (which must not exist, as with Firecracker). */
export async function startFirecrackerDouble(options: FirecrackerDoubleOptions): Promise<FirecrackerDouble> {
  const scenario = options.scenario ?? 'ok';
  const validator = specValidator();
  const state = initialVmState();
  const calls: RecordedCall[] = [];
  const vsock = new FakeGuestVsock(state, options.guestVsockPorts ?? [22]);
  const server = createHttpServer((req, res) => {
    if (scenario === 'hang') return; // never answers
    void readBody(req).then((raw) => {
      const framing = framingProblem(req, raw);
      const request: ApiRequest = {
        method: req.method as ApiRequest['method'],
        path: req.url ?? '/',
        body: parseJson(raw),
      };
      const answer = framing ?? answer_(request);
      const call: RecordedCall = {
        ...request,
        status: answer.status,
        answer: answer.body,
        headers: headersOf(req),
      };
      calls.push(call);
      options.onCall?.(call);
      send(res, answer);
      if (answer.status === 204) void afterSuccess(request);
    });
  });

  function answer_(request: ApiRequest): DoubleAnswer {
    if (request.body === INVALID_JSON)
      return {
        status: 400,
        body: {
          fault_message: 'An error occurred when deserializing the json body of a request: invalid JSON',
        },
      };
    const isStart =
      request.method === 'PUT' &&
      request.path === '/actions' &&
      (request.body as { action_type?: string })?.action_type === 'InstanceStart';
    if (isStart && scenario === 'boot-fail' && !state.started)
      return { status: 400, body: { fault_message: BOOT_FAILURE_MESSAGE } };
    return answerRequest(validator, state, request, options.instanceId ?? 'anonymous-instance');
  }

  async function afterSuccess(request: ApiRequest): Promise<void> {
    const action = (request.body as { action_type?: string } | undefined)?.action_type;
    if (request.path === '/vsock' && state.vsock !== undefined) await vsock.listen(state.vsock.uds_path);
    if (request.path === '/actions' && action === 'InstanceStart')
      options.onEvent?.({ kind: 'guest-started' });
    if (request.path === '/actions' && action === 'SendCtrlAltDel' && scenario !== 'ignore-ctrl-alt-del') {
      options.onEvent?.({ kind: 'ctrl-alt-del' });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.apiSocketPath, () => resolve());
  });
  return {
    calls,
    state,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await vsock.close();
    },
  };
}

const INVALID_JSON = Symbol('invalid JSON');

/** micro_http's limits: no chunked bodies, Content-Length required with a body, 1 KiB header lines, 50 KiB bodies. */
function framingProblem(req: IncomingMessage, raw: Buffer): DoubleAnswer | undefined {
  const problem = (message: string): DoubleAnswer => ({ status: 400, body: { fault_message: message } });
  if (req.headers['transfer-encoding'] !== undefined)
    return problem('firecracker double: chunked transfer encoding is not supported by micro_http');
  if (raw.length > 0 && req.headers['content-length'] === undefined)
    return problem('firecracker double: a body needs a Content-Length header');
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (Buffer.byteLength(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`) > MAX_HEADER_LINE_BYTES)
      return problem('Header line too long.');
  }
  if (raw.length > MAX_BODY_BYTES) {
    return problem(
      `Request payload with size ${raw.length} is larger than the limit of ${MAX_BODY_BYTES} allowed by server.`,
    );
  }
  return undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

function headersOf(req: IncomingMessage): RecordedCall['headers'] {
  return {
    contentLength: req.headers['content-length'],
    transferEncoding: req.headers['transfer-encoding'],
    accept: req.headers.accept,
    contentType: req.headers['content-type'],
  };
}

function send(res: ServerResponse, answer: DoubleAnswer): void {
  if (answer.body === undefined) {
    res.writeHead(answer.status, { 'Content-Length': 0 }).end();
    return;
  }
  const payload = Buffer.from(JSON.stringify(answer.body));
  res
    .writeHead(answer.status, { 'Content-Type': 'application/json', 'Content-Length': payload.length })
    .end(payload);
}

/** The host end of Firecracker's hybrid vsock, with a fake guest behind it. */
class FakeGuestVsock {
  private server: NetServer | undefined;
  private path: string | undefined;
  private readonly sockets = new Set<Socket>();
  private nextHostPort = 1_073_741_824;

  constructor(
    private readonly state: DoubleVmState,
    private readonly guestPorts: number[],
  ) {}

  /** Firecracker binds uds_path at PUT /vsock. */
  async listen(path: string): Promise<void> {
    this.path = path;
    this.server = createNetServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(path, () => resolve());
    });
  }

  /** CONNECT <port>\n → OK <host port>\n + banner + echo, or close when nothing listens (guest not up). */
  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('latin1');
      const newline = buffered.indexOf('\n');
      if (newline === -1) return;
      socket.off('data', onData);
      const match = /^CONNECT (\d+)$/.exec(buffered.slice(0, newline));
      if (match === null || !this.state.started || !this.guestPorts.includes(Number(match[1])))
        return void socket.destroy();
      socket.write(`OK ${this.nextHostPort++}\n${FAKE_GUEST_BANNER}`);
      const rest = buffered.slice(newline + 1);
      if (rest.length > 0) socket.write(rest, 'latin1');
      socket.pipe(socket);
    };
    socket.on('data', onData);
  }

  /** Real Firecracker leaves the socket file behind; the double removes it only when closed in-process. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    if (this.server !== undefined) await new Promise<void>((resolve) => this.server?.close(() => resolve()));
    if (this.path !== undefined) rmSync(this.path, { force: true });
  }
}
