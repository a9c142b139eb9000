// What one stage costs inside a VM over the guest channel, and how fast bytes flow, by SSH cipher:
// Tart's preference (chacha20-poly1305 first) against ssh2's default on an AES-NI host (AES-GCM
// first). One VM (QEMU, 1 vCPU, 512 MiB); per cipher: N runs of a `true` stage (min/median/max)
// and a 16 MiB stream from the guest.
//   npx tsx bench/guest-exec.ts [--runs N] [--image DIR]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { FreshVmProvider } from '../src/executor/vm/index.js';
import { readCredentials } from '../src/executor/vm/vm-handle.js';
import { CIPHER_PREFERENCE, connectGuest } from '../src/guest/ssh/connect.js';
import { currentImageDir, defaultImageRoot } from '../src/image/layout.js';
import { QemuVmm } from '../src/vmm/qemu/qemu-vmm.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, image: { type: 'string' } } });
const runs = Number(values.runs);
const imageDir = values.image ?? currentImageDir(defaultImageRoot());
const STREAM_BYTES = 16 * 2 ** 20;

const CIPHERS: Record<string, readonly string[]> = {
  'tart (chacha20-poly1305 first)': CIPHER_PREFERENCE,
  'ssh2 default on AES-NI (aes128-gcm first)': ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr'],
};

const runtimeRoot = await mkdtemp(join(tmpdir(), 'tart-bench-exec-'));
const provider = new FreshVmProvider({
  vmm: new QemuVmm({ accel: 'auto' }),
  imageDir,
  vcpus: 1,
  memoryMb: 512,
  diskSizeMb: 1024,
  bootTimeoutSeconds: 300,
  runtimeRoot,
});
const vm = await provider.acquire({ name: 'bench', log: () => undefined }, new AbortController().signal);
try {
  const key = await readCredentials(vm.handle);
  for (const [label, ciphers] of Object.entries(CIPHERS)) {
    const session = await connectGuest({
      endpoint: vm.handle.channel.endpoint,
      clientPrivateKey: key,
      hostPublicKey: vm.handle.channel.hostPublicKey,
      timeoutMs: 30_000,
      ciphers,
    });
    const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() });
    await session.exec({ command: ['true'], stdout: sink() }); // warm-up
    const stage: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      const started = performance.now();
      const { exitCode } = await session.exec({ command: ['true'], stdout: sink(), stderr: sink() });
      if (exitCode !== 0) throw new Error(`true exited ${exitCode}`);
      stage.push(performance.now() - started);
    }
    let received = 0;
    const started = performance.now();
    await session.exec({
      command: ['head', '-c', String(STREAM_BYTES), '/dev/zero'],
      stdout: new Writable({ write: (chunk: Buffer, _encoding, done) => ((received += chunk.length), done()) }),
    });
    const seconds = (performance.now() - started) / 1000;
    if (received !== STREAM_BYTES) throw new Error(`received ${received} of ${STREAM_BYTES} bytes`);
    session.close();
    stage.sort((a, b) => a - b);
    const median = stage[Math.floor(stage.length / 2)] ?? 0;
    console.log(
      `${label.padEnd(44)} stage (true): min ${ms(stage[0])} median ${ms(median)} max ${ms(stage.at(-1))}; ` +
        `guest→host ${(STREAM_BYTES / 2 ** 20 / seconds).toFixed(1)} MiB/s`,
    );
  }
} finally {
  await provider.release(vm);
  await rm(runtimeRoot, { recursive: true, force: true });
}

function ms(value: number | undefined): string {
  return `${(value ?? 0).toFixed(0).padStart(4)} ms`;
}
