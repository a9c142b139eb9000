// The guest kernel: Debian's linux-image-cloud-amd64, resolved through apt to its versioned
// image package, then taken from the host when that exact version is installed, or fetched with
// `apt-get download` + `dpkg-deb -x` into a cache (never installed on the host).
import { access, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TartError, UserError } from '../errors.js';
import { runChecked, type CommandRunner } from './spawn.js';

export const KERNEL_META_PACKAGE = 'linux-image-cloud-amd64';

export interface KernelPackage {
  /** e.g. linux-image-6.1.0-56-cloud-amd64 */
  name: string;
  /** e.g. 6.1.192-2 */
  version: string;
  /** e.g. 6.1.0-56-cloud-amd64 */
  release: string;
}

export interface KernelFiles {
  bzImagePath: string;
  modulesDir: string;
  source: 'host' | 'apt-download';
}

/** Asks apt which image package and version the meta package currently points at. */
export async function resolveKernelPackage(options: {
  run: CommandRunner;
  signal?: AbortSignal;
}): Promise<KernelPackage> {
  const { run, signal } = options;
  const policy = await runChecked(run, {
    command: 'apt-cache',
    args: ['policy', KERNEL_META_PACKAGE],
    signal,
  });
  const candidate = /Candidate:\s*(\S+)/.exec(policy.stdout.toString('utf8'))?.[1];
  if (!candidate || candidate === '(none)') {
    throw new UserError(
      'IMAGE_KERNEL_UNAVAILABLE',
      `apt knows no ${KERNEL_META_PACKAGE}; run "apt-get update" first`,
    );
  }
  const show = await runChecked(run, {
    command: 'apt-cache',
    args: ['show', '--no-all-versions', `${KERNEL_META_PACKAGE}=${candidate}`],
    signal,
  });
  return parseKernelDependency(show.stdout.toString('utf8'));
}

/** Extracts "linux-image-<release> (= <version>)" from the meta package's Depends. */
export function parseKernelDependency(aptShow: string): KernelPackage {
  const depends = /^Depends:\s*(.+)$/m.exec(aptShow)?.[1] ?? '';
  const match = /(linux-image-(\d[^\s,()]*))\s*\(=\s*([^)\s]+)\)/.exec(depends);
  if (!match?.[1] || !match[2] || !match[3]) {
    throw new TartError('IMAGE_KERNEL_UNAVAILABLE', `cannot find the kernel image in Depends: ${depends}`);
  }
  return { name: match[1], release: match[2], version: match[3] };
}

/** Finds the bzImage and modules for `kernel`, downloading the package into `cacheDir` if needed. */
export async function obtainKernelFiles(options: {
  kernel: KernelPackage;
  cacheDir: string;
  run: CommandRunner;
  log: (line: string) => void;
  signal?: AbortSignal;
}): Promise<KernelFiles> {
  const { kernel, cacheDir, run, signal } = options;
  if (await hostHasKernel(kernel, run, signal)) {
    return {
      bzImagePath: `/boot/vmlinuz-${kernel.release}`,
      modulesDir: `/lib/modules/${kernel.release}`,
      source: 'host',
    };
  }
  const extracted = join(cacheDir, `${kernel.name}_${kernel.version}`);
  if (!(await exists(join(extracted, 'boot', `vmlinuz-${kernel.release}`)))) {
    await downloadAndExtract({ kernel, cacheDir, extracted, run, log: options.log, signal });
  }
  const modulesDir = (await exists(join(extracted, 'lib', 'modules', kernel.release)))
    ? join(extracted, 'lib', 'modules', kernel.release)
    : join(extracted, 'usr', 'lib', 'modules', kernel.release);
  return {
    bzImagePath: join(extracted, 'boot', `vmlinuz-${kernel.release}`),
    modulesDir,
    source: 'apt-download',
  };
}

// The host's own kernel counts only when dpkg has exactly this version installed.
async function hostHasKernel(
  kernel: KernelPackage,
  run: CommandRunner,
  signal?: AbortSignal,
): Promise<boolean> {
  const query = await run({
    command: 'dpkg-query',
    args: ['-W', '-f', '${Status} ${Version}', kernel.name],
    signal,
  });
  const installed =
    query.exitCode === 0 && query.stdout.toString('utf8').trim() === `install ok installed ${kernel.version}`;
  return (
    installed &&
    (await exists(`/boot/vmlinuz-${kernel.release}`)) &&
    (await exists(`/lib/modules/${kernel.release}/modules.dep`))
  );
}

async function downloadAndExtract(options: {
  kernel: KernelPackage;
  cacheDir: string;
  extracted: string;
  run: CommandRunner;
  log: (line: string) => void;
  signal?: AbortSignal;
}): Promise<void> {
  const { kernel, cacheDir, extracted, run, signal } = options;
  await mkdir(cacheDir, { recursive: true });
  const started = Date.now();
  await runChecked(run, {
    command: 'apt-get',
    args: ['download', `${kernel.name}=${kernel.version}`],
    cwd: cacheDir,
    signal,
  });
  const deb = (await readdir(cacheDir)).find(
    (name) => name.startsWith(`${kernel.name}_`) && name.endsWith('.deb'),
  );
  if (!deb) throw new TartError('IMAGE_KERNEL_UNAVAILABLE', `apt-get download left no ${kernel.name} .deb`);
  const partial = `${extracted}.partial`;
  await rm(partial, { recursive: true, force: true });
  await runChecked(run, { command: 'dpkg-deb', args: ['-x', join(cacheDir, deb), partial], signal });
  await rename(partial, extracted);
  await rm(join(cacheDir, deb), { force: true });
  options.log(`apt: downloaded and unpacked ${kernel.name} ${kernel.version} (${seconds(started)} s)`);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}
