// `image:` costs. (1) Cold (nothing cached) to a job-ready root for the python test image: Tart's
// store (skopeo pull, umoci flatten, mkfs.ext4) against the same steps run by hand (`skopeo copy`,
// `umoci raw unpack`, `mkfs.ext4 -d`). (2) The VM-start time a cached image adds over Tart's own
// root: boots of each, alternating, compared by the guest's uptime when it was ready (the guest's
// init builds the image root during boot, beside sshd's start: the boot command) and by the host's
// acquire-to-connected time; then a stage run through the image's chroot against one in Tart's
// root (wrap in `flock /tmp/tart-vm.lock`).
//   npx tsx bench/image.ts [--runs N] [--skip-cold] [--skip-vm]
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createVmExecutor } from '../src/executor/vm/index.js';
import { imageRootSetupCommand, userStageCommand } from '../src/executor/vm/image-root.js';
import { currentImageDir, defaultImageRoot } from '../src/image/layout.js';
import { GUEST_READY_MARKER } from '../src/vmm/guest-contract.js';
import { ImageStore } from '../src/oci/store.js';
import { startRegistry } from '../test/support/oci/registry.js';
import { pushTestImage, testImageLayout } from '../test/support/oci/test-images.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, 'skip-cold': { type: 'boolean', default: false }, 'skip-vm': { type: 'boolean', default: false } } });
const runs = Number(values.runs);

function stats(label: string, samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`${label.padEnd(46)} min ${sorted[0]!.toFixed(0).padStart(6)} ms  median ${median.toFixed(0).padStart(6)} ms  max ${sorted.at(-1)!.toFixed(0).padStart(6)} ms`);
  return median;
}

async function timed(work: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function coldPull(): Promise<void> {
  const registry = await startRegistry();
  try {
    pushTestImage(await testImageLayout('python'), registry.host, 'lang/python', '3');
    const reference = `${registry.host}/lang/python:3`;
    const tart: number[] = [];
    const byHand: number[] = [];
    for (let run = 0; run < runs; run++) {
      const store = await mkdtemp(join(tmpdir(), 'tart-bench-store-'));
      tart.push(
        await timed(async () => {
          const image = await new ImageStore({ root: store }).acquire({ image: reference, policies: ['always'], log: () => undefined });
          image.release();
        }),
      );
      await rm(store, { recursive: true, force: true });
      const dir = await mkdtemp(join(tmpdir(), 'tart-bench-hand-'));
      byHand.push(
        await timed(() => {
          const env = { PATH: process.env.PATH, HOME: '/nonexistent' };
          execFileSync('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', `docker://${reference}`, `oci:${dir}/layout:x`], { env });
          execFileSync('umoci', ['raw', 'unpack', '--image', `${dir}/layout:x`, `${dir}/rootfs`], { stdio: 'ignore' });
          execFileSync('mkfs.ext4', ['-q', '-F', '-O', '^has_journal', '-d', `${dir}/rootfs`, `${dir}/rootfs.ext4`, '400M']);
        }),
      );
      await rm(dir, { recursive: true, force: true });
    }
    console.log('cold pull to a job-ready root (python test image, registry on 127.0.0.1)');
    const a = stats('  tart store (pull, verify, flatten, ext4)', tart);
    const b = stats('  by hand (skopeo copy, umoci, mkfs.ext4 -d)', byHand);
    console.log(`  ratio tart / by hand: ${(a / b).toFixed(2)}`);
  } finally {
    await registry.stop();
  }
}

// The guest's uptime (s) on its last init line before the ready marker: sshd listening, or the
// boot command done, whichever came last.
function guestReadyAt(console: string): number {
  const before = console.slice(0, console.indexOf(GUEST_READY_MARKER));
  const stamps = [...before.matchAll(/tart-guest: (?:sshd listening|boot command done) at ([\d.]+) s/g)].map((match) => Number(match[1]));
  return Math.max(...stamps) * 1000;
}

// The CPU time (user + system, every thread) the VMM has used so far: the emulation work of the
// boot, which a loaded host stretches in wall time but hardly changes (an idle vCPU costs none).
async function vmmCpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

// The guest's uptime when its init started: the kernel's and initramfs's share of the boot.
function initStartedAt(console: string): number {
  return Number(/tart-guest: init started at ([\d.]+) s/.exec(console)?.[1]) * 1000;
}

// From the guest init's start to ready: the same without the kernel's and initramfs's share.
function initToReady(console: string): number {
  return guestReadyAt(console) - initStartedAt(console);
}

function bootCommandMs(console: string): number {
  const at = (what: string) => Number(new RegExp(`tart-guest: boot command ${what} at ([\\d.]+) s`).exec(console)?.[1]);
  return (at('done') - at('started')) * 1000;
}

// Boots alternate between Tart's own root and the busybox image (its root built by the guest's
// init during boot); then stages in each root, in the last image VM.
async function vmCost(): Promise<void> {
  const registry = await startRegistry();
  const store = await mkdtemp(join(tmpdir(), 'tart-bench-store-'));
  const runtimeRoot = await mkdtemp(join(tmpdir(), 'tart-bench-vm-'));
  try {
    pushTestImage(await testImageLayout('busybox'), registry.host, 'tools/busybox', '1');
    const image = await new ImageStore({ root: store }).acquire({ image: `${registry.host}/tools/busybox:1`, policies: ['always'], log: () => undefined });
    const executor = createVmExecutor({
      vmm: 'qemu',
      imageDir: currentImageDir(defaultImageRoot()),
      vcpus: 1,
      memoryMb: 512,
      diskSizeMb: 2048,
      bootTimeoutSeconds: 300,
      accel: 'auto',
      runtimeRoot,
    });
    // As the VM executor builds it: with the guest image's static busybox where it has one.
    const tools = (await executor.provider.guestTools?.()) ?? {};
    const withImage = { imageDigest: image.entry.manifestDigest, imageDisk: image.rootfsPath, bootCommand: imageRootSetupCommand('/builds', {}, tools) };
    const samples = { own: [] as number[], image: [] as number[], guestOwn: [] as number[], guestImage: [] as number[], initOwn: [] as number[], initImage: [] as number[], cpuOwn: [] as number[], cpuImage: [] as number[], kernelOwn: [] as number[], kernelImage: [] as number[], command: [] as number[] };
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    const own: number[] = [];
    const inImage: number[] = [];
    try {
      for (let run = 0; run < runs; run++) {
        for (const attach of [false, true]) {
          const vm = await executor.provider.acquire({ name: 'bench', log: () => undefined, ...(attach ? withImage : {}) }, new AbortController().signal);
          try {
            (attach ? samples.cpuImage : samples.cpuOwn).push(await vmmCpuMs(vm.handle.vmmPid));
            const consoleText = await readFile(join(vm.handle.runtimeDir, 'console.log'), 'utf8');
            (attach ? samples.image : samples.own).push(executor.lastTimings!.totalMs);
            (attach ? samples.guestImage : samples.guestOwn).push(guestReadyAt(consoleText));
            (attach ? samples.initImage : samples.initOwn).push(initToReady(consoleText));
            (attach ? samples.kernelImage : samples.kernelOwn).push(initStartedAt(consoleText));
            if (!attach) continue;
            if (vm.bootCommandResult?.exitCode !== 0) throw new Error(`image root setup failed: ${JSON.stringify(vm.bootCommandResult)}`);
            samples.command.push(bootCommandMs(consoleText));
            if (run < runs - 1) continue;
            const script = 'echo stage\n';
            for (let stage = 0; stage < 5; stage++) {
              own.push(await timed(() => vm.channel.exec({ command: ['bash'], stdin: script, stdout: sink })));
              inImage.push(await timed(() => vm.channel.exec({ command: userStageCommand(image.config, []), stdin: script, stdout: sink })));
            }
          } finally {
            await executor.provider.release(vm);
          }
        }
      }
    } finally {
      image.release();
    }
    console.log(`added VM-start time for a cached image (busybox test image, ${runs} boots each, alternating; goal <= 150 ms under TCG)`);
    console.log(`  guest image ${tools.helperBusybox ? `with its static busybox (${tools.helperBusybox})` : 'without a static busybox (helper root sh, mkdir, mount)'}`);
    const guestImage = stats('  guest ready (uptime), image root built at boot', samples.guestImage);
    const guestOwn = stats("  guest ready (uptime), Tart's own root", samples.guestOwn);
    console.log(`  added (median difference): ${(guestImage - guestOwn).toFixed(0)} ms`);
    stats('  kernel and initramfs (uptime at init start), image', samples.kernelImage);
    stats("  kernel and initramfs (uptime at init start), own root", samples.kernelOwn);
    const initImage = stats('  guest init start to ready, image root', samples.initImage);
    const initOwn = stats("  guest init start to ready, Tart's own root", samples.initOwn);
    console.log(`  added from the init's start (median difference): ${(initImage - initOwn).toFixed(0)} ms`);
    stats('  the boot command itself (beside sshd start)', samples.command);
    const cpuImage = stats('  QEMU CPU time to SSH connected, image', samples.cpuImage);
    const cpuOwn = stats("  QEMU CPU time to SSH connected, Tart's root", samples.cpuOwn);
    console.log(`  added emulation work (median difference): ${(cpuImage - cpuOwn).toFixed(0)} ms`);
    const hostImage = stats('  host: acquire to SSH connected, image', samples.image);
    const hostOwn = stats("  host: acquire to SSH connected, Tart's root", samples.own);
    console.log(`  host-side difference (median): ${(hostImage - hostOwn).toFixed(0)} ms`);
    const a = stats('  stage in the image (busybox chroot, sh)', inImage);
    const b = stats("  stage in Tart's own root (bash)", own);
    console.log(`  per-stage difference: ${(a - b).toFixed(0)} ms`);
  } finally {
    await registry.stop();
    await rm(store, { recursive: true, force: true });
    await rm(runtimeRoot, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!values['skip-cold']) await coldPull();
  if (!values['skip-vm']) await vmCost();
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

