// The QEMU microVM executor against the real guest image under TCG: two VMs booted at once,
// commands over SSH, tar streams, abort, exit codes, and a close() that leaves nothing behind.
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pack } from 'tar-stream';
import { copyTarIn, copyTarOut } from '../../../src/executor/streams.js';
import type { JobEnvironment } from '../../../src/executor/types.js';
import { createVmExecutor, type VmExecutor } from '../../../src/executor/vm/index.js';
import type { JobPayload } from '../../../src/model/payload.js';
import type { ImageManifest } from '../../../src/image/layout.js';
import {
  IMAGE_DIR,
  createTestRuntimeRoot,
  listFilesBelow,
  qemuProcessesMentioning,
  removeTestRuntimeRoot,
  requireImage,
} from './support/vm-test-env.js';
import { readTar } from '../../support/read-tar.js';
import { waitFor } from '../../support/wait-for.js';

describe('the QEMU VM executor (real guest under TCG)', () => {
  let manifest: ImageManifest;
  let runtimeRoot: string;
  let executor: VmExecutor;
  let first: JobEnvironment;
  let second: JobEnvironment;
  const prepareLog: string[] = [];
  let bootWindows: Array<{ start: number; end: number }> = [];

  before(async () => {
    manifest = await requireImage();
    runtimeRoot = await createTestRuntimeRoot('vm-executor');
    executor = createVmExecutor({
      vmm: 'qemu',
      imageDir: IMAGE_DIR,
      vcpus: 1,
      memoryMb: 512,
      diskSizeMb: 1024,
      bootTimeoutSeconds: 240,
      accel: 'auto',
      runtimeRoot,
    });
    const boot = async (id: number) => {
      const start = Date.now();
      const env = await executor.prepare({
        job: { id } as JobPayload,
        log: (line) => prepareLog.push(line),
        signal: new AbortController().signal,
      });
      return { env, window: { start, end: Date.now() } };
    };
    const [a, b] = await Promise.all([boot(101), boot(102)]);
    first = a.env;
    second = b.env;
    bootWindows = [a.window, b.window];
  });

  after(async () => {
    await first?.close();
    await second?.close();
    if (runtimeRoot) await removeTestRuntimeRoot(runtimeRoot);
  });

  it('boots two VMs at once, each with its own guest, both running at the same time', async (t) => {
    const [a, b] = bootWindows;
    assert.ok(a && b && a.start < b.end && b.start < a.end, 'the two boots overlapped');
    t.diagnostic(`boots took ${a.end - a.start} ms and ${b.end - b.start} ms, side by side`);
    const [hostA, hostB] = await Promise.all([run(first, ['hostname']), run(second, ['hostname'])]);
    assert.match(hostA.stdout, /^runner-job101-[0-9a-f]{8}\n$/);
    assert.match(hostB.stdout, /^runner-job102-[0-9a-f]{8}\n$/);
    const vms = await qemuProcessesMentioning(runtimeRoot);
    assert.equal(vms.length, 2, 'two qemu processes run');
    for (const vm of vms)
      assert.doesNotMatch(vm.argv.join(' '), /PRIVATE KEY|ssh-ed25519/, 'no key on the QEMU command line');
    for (const dir of await readdir(runtimeRoot)) {
      assert.equal((await stat(join(runtimeRoot, dir))).mode & 0o777, 0o700, `${dir} is private`);
      for (const file of ['seed.tar', 'scratch.img', 'state.json', 'console.log']) {
        assert.equal(
          (await stat(join(runtimeRoot, dir, file))).mode & 0o077,
          0,
          `${dir}/${file} is not group/world-readable`,
        );
      }
    }
    assert.ok(prepareLog.some((line) => line.includes(`kernel ${manifest.kernelRelease}`)));
    assert.ok(prepareLog.some((line) => /Starting VM job10[12]-\w+ \(1 vCPU, 512 MiB\)/.test(line)));
  });

  it('runs commands in the guest kernel named by the manifest, not the host kernel', async () => {
    const { stdout, exitCode } = await run(first, ['uname', '-r']);
    assert.equal(exitCode, 0);
    assert.equal(stdout.trim(), manifest.kernelRelease);
    assert.notEqual(stdout.trim(), release());
  });

  it("returns a command's exit status: exit 7 gives 7", async () => {
    assert.equal((await run(first, ['sh', '-c', 'echo out; echo err >&2; exit 7'])).exitCode, 7);
    const result = await run(first, ['sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(result.stdout, 'out\n');
    assert.equal(result.stderr, 'err\n');
  });

  it('passes env and cwd, and quotes arguments the remote shell would otherwise split', async () => {
    const tricky = `a b 'c' "d" $HOME \`x\` ; | & * \\ é`;
    const result = await run(first, ['printf', '%s|%s|', tricky, '$TEST_VALUE'], {
      env: { TEST_VALUE: 'v 1' },
      cwd: '/tmp',
    });
    assert.equal(result.stdout, `${tricky}|$TEST_VALUE|`);
    const cwd = await run(first, ['sh', '-c', 'pwd; echo "$TEST_VALUE"'], {
      env: { TEST_VALUE: 'v 1' },
      cwd: '/tmp',
    });
    assert.equal(cwd.stdout, '/tmp\nv 1\n');
  });

  it('streams stdin into a command, and streams its output back, byte for byte', async () => {
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * 1024, i));
    const expected = Buffer.concat(chunks);
    const output = await run(first, ['sh', '-c', 'cat; echo done >&2'], { stdin: Readable.from(chunks) });
    assert.equal(output.exitCode, 0);
    assert.equal(output.stderr, 'done\n');
    assert.ok(Buffer.from(output.stdoutBytes).equals(expected), `got ${output.stdoutBytes.length} bytes`);
  });

  it('copies a tar into the guest and back out unchanged (names, modes, bytes)', async () => {
    const files = [
      { name: 'a.txt', body: Buffer.from('alpha\n'), mode: 0o644 },
      { name: 'dir with space/run.sh', body: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { name: 'bin/blob', body: Buffer.alloc(300_000, 7), mode: 0o600 },
    ];
    await copyTarIn(first, { directory: '/tmp/tar-round-trip', tar: tarOf(files) });
    const listing = await run(first, [
      'sh',
      '-c',
      'cd /tmp/tar-round-trip && stat -c "%a %s %n" a.txt "dir with space/run.sh" bin/blob',
    ]);
    assert.equal(listing.stdout, '644 6 a.txt\n755 18 dir with space/run.sh\n600 300000 bin/blob\n');
    const back = await readTar(
      copyTarOut(first, { directory: '/tmp/tar-round-trip', paths: files.map((f) => f.name) }),
    );
    for (const file of files) {
      const entry = back.get(file.name);
      assert.ok(entry, `${file.name} came back`);
      assert.equal(entry.mode & 0o777, file.mode);
      assert.ok(entry.body.equals(file.body), `${file.name} bytes`);
    }
  });

  it('abort kills the remote command and its children within 2 s', async (t) => {
    const controller = new AbortController();
    const stdout = new PassThrough();
    let seen = '';
    stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    const execution = second.exec({
      command: ['sh', '-c', 'sleep 301 & sleep 302 & echo started; wait'],
      stdout,
      signal: controller.signal,
    });
    const outcome = execution.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await waitFor(() => seen.includes('started'), 60_000);
    const abortedAt = Date.now();
    controller.abort(new Error('test abort'));
    const result = await outcome;
    const elapsed = Date.now() - abortedAt;
    assert.ok(
      result instanceof Error && result.message === 'test abort',
      `exec rejected with the abort reason, got ${String(result)}`,
    );
    t.diagnostic(`exec ended ${elapsed} ms after the abort`);
    assert.ok(elapsed < 2000, `exec ended ${elapsed} ms after the abort`);
    const ps = await run(second, ['ps', '-eo', 'args']);
    assert.doesNotMatch(ps.stdout, /sleep 30[12]/, 'no child of the aborted command survives');
    assert.equal((await run(second, ['true'])).exitCode, 0, 'the VM still takes commands');
  });

  it('close() leaves no qemu process, disk, socket or runtime dir', async () => {
    assert.ok((await listFilesBelow(runtimeRoot)).some((name) => name.endsWith('scratch.img')));
    await Promise.all([first.close(), second.close()]);
    await first.close(); // idempotent
    assert.deepEqual(await qemuProcessesMentioning(runtimeRoot), []);
    assert.deepEqual(await listFilesBelow(runtimeRoot), []);
  });
});

interface RunOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

async function run(
  env: JobEnvironment,
  command: string[],
  extra: { stdin?: Readable | string; env?: Record<string, string>; cwd?: string } = {},
): Promise<RunOutput> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on('data', (chunk: Buffer) => out.push(chunk));
  const stderr = new PassThrough().on('data', (chunk: Buffer) => err.push(chunk));
  const { exitCode } = await env.exec({ command, stdout, stderr, ...extra });
  const stdoutBytes = Buffer.concat(out);
  return {
    exitCode,
    stdout: stdoutBytes.toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    stdoutBytes,
  };
}

function tarOf(files: Array<{ name: string; body: Buffer; mode: number }>): Readable {
  const archive = pack();
  for (const file of files) archive.entry({ name: file.name, mode: file.mode }, file.body);
  archive.finalize();
  return Readable.from(archive);
}
