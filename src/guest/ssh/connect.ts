// Opening the SSH connection to a booting guest: retried until sshd answers, with the host
// key pinned (no trust on first use). guest/ssh/ is the only importer of ssh2.
import type { Socket } from 'node:net';
import ssh2 from 'ssh2';
import { TartError } from '../../errors.js';
import { GUEST_SSH_USER } from '../../vmm/guest-contract.js';
import type { SshEndpoint } from '../../vmm/types.js';
import { connectHybridVsock } from '../hybrid-vsock.js';
import { publicKeyBlob } from './keys.js';
import { GuestSession } from './session.js';

export interface ConnectGuestOptions {
  endpoint: SshEndpoint;
  clientPrivateKey: string;
  /** The guest's host public key (OpenSSH line); any other key is refused. */
  hostPublicKey: string;
  /** Give up after this long (the VM may still be booting). */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Pause between attempts. */
  retryDelayMs?: number;
  /** Cipher preference, most wanted first (default CIPHER_PREFERENCE); for benchmarks. */
  ciphers?: readonly string[];
}

/**
 * chacha20-poly1305 first: ssh2 puts AES-GCM first when the host has AES-NI, but the guest (under
 * TCG, and any emulated CPU) lacks it, and the guest's side of AES-GCM is then the bottleneck.
 */
export const CIPHER_PREFERENCE = [
  'chacha20-poly1305@openssh.com',
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
] as const;

/** Connects once sshd answers with the pinned host key. */
export async function connectGuest(options: ConnectGuestOptions): Promise<GuestSession> {
  const deadline = Date.now() + options.timeoutMs;
  const expectedKey = publicKeyBlob(options.hostPublicKey);
  let lastError: unknown;
  for (let attempt = 1; ; attempt += 1) {
    options.signal?.throwIfAborted();
    try {
      const client = await connectOnce(options, expectedKey, Math.max(1000, deadline - Date.now()));
      return new GuestSession(client);
    } catch (error) {
      if (error instanceof TartError && error.code === 'SSH_HOST_KEY_MISMATCH') throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new TartError(
        'SSH_CONNECT_TIMEOUT',
        `the guest's sshd did not answer within ${options.timeoutMs} ms: ${describe(lastError)}`,
        {
          cause: lastError,
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 250));
  }
}

function connectOnce(
  options: ConnectGuestOptions,
  expectedKey: Buffer,
  readyTimeout: number,
): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKeyRejected = false;
    const fail = (error: unknown) => {
      client.removeAllListeners('ready');
      client.end();
      reject(
        hostKeyRejected
          ? new TartError('SSH_HOST_KEY_MISMATCH', 'the guest presented a host key other than the pinned one')
          : error,
      );
    };
    client.once('ready', () => {
      client.removeListener('error', fail);
      client.on('error', () => undefined);
      resolve(client);
    });
    client.once('error', fail);
    client.once('close', () => fail(new Error('connection closed before the handshake finished')));
    const common = {
      username: GUEST_SSH_USER,
      privateKey: options.clientPrivateKey,
      readyTimeout,
      keepaliveInterval: 5000,
      keepaliveCountMax: 6,
      algorithms: { cipher: [...(options.ciphers ?? CIPHER_PREFERENCE)] as ssh2.CipherAlgorithm[] },
      hostVerifier: (key: Buffer) => {
        const matches = Buffer.isBuffer(key) && key.equals(expectedKey);
        if (!matches) hostKeyRejected = true;
        return matches;
      },
    };
    const endpoint = options.endpoint;
    if (endpoint.kind === 'tcp') {
      client.connect({ ...common, host: endpoint.host, port: endpoint.port });
    } else {
      hybridVsockConnect(endpoint.path, endpoint.port).then(
        (sock) => client.connect({ ...common, sock }),
        (error: unknown) => reject(error),
      );
    }
  });
}

/** Firecracker's hybrid vsock, for the SSH transport: guest/hybrid-vsock.ts's one client. */
export function hybridVsockConnect(path: string, port: number, timeoutMs = 5000): Promise<Socket> {
  return connectHybridVsock({ path, port }, { attemptTimeoutMs: timeoutMs });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
