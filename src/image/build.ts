// `tart image build`: kernel → vmlinuz + vmlinux, initramfs, rootfs → a versioned image
// directory and an atomically updated `current` symlink. Skips the work when an intact image
// of the same version exists.
import { copyFile, mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readHostAptSources, renderDeb822, sourcesForSuite } from './apt-sources.js';
import { renderInitramfsInit } from './initramfs-init.js';
import { buildInitramfs, BUSYBOX_PATH } from './initramfs.js';
import { obtainKernelFiles, resolveKernelPackage } from './kernel.js';
import {
  CURRENT_LINK,
  IMAGE_FILE_KEYS,
  IMAGE_FILES,
  sha256File,
  verifyImage,
  type ImageFileInfo,
  type ImageFileKey,
  type ImageManifest,
} from './layout.js';
import { GUEST_MODULES } from './modules.js';
import { stageContainerModules } from './container-modules.js';
import {
  FIRECRACKER_KERNEL_CMDLINE,
  parseCpuinfoKhz,
  qemuKernelCmdline,
  imageRecipe,
  imageVersion,
  recipeForManifest,
  type ImageRecipe,
} from './recipe.js';
import { buildRootfs, ROOTFS_SUITE } from './rootfs.js';
import { runChecked, spawnCommand, type CommandRunner } from './spawn.js';
import { extractVmlinux } from './vmlinux.js';

export interface BuildImageOptions {
  outputRoot: string;
  force?: boolean;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** The command seam; tests substitute canned results. */
  run?: CommandRunner;
  /** Host apt configuration directory (tests point it elsewhere). */
  aptDir?: string;
}

export interface BuildImageResult {
  version: string;
  dir: string;
  built: boolean;
  manifest: ImageManifest;
}

/** Builds (or confirms) the image for the current inputs and points `current` at it. */
export async function buildImage(options: BuildImageOptions): Promise<BuildImageResult> {
  const run = options.run ?? spawnCommand;
  const log = options.log ?? (() => {});
  const { outputRoot, signal } = options;

  await mkdir(outputRoot, { recursive: true, mode: 0o755 });
  const recipe = await resolveRecipe(run, signal);
  const version = imageVersion(recipe);
  const dir = join(outputRoot, version);
  const existing = await verifyImage(dir, { checksums: false });
  if (!options.force && existing.ok && existing.manifest) {
    await pointCurrentAt(outputRoot, version);
    log(`image up to date: ${version} (${dir})`);
    return { version, dir, built: false, manifest: existing.manifest };
  }

  log(`building image ${version} into ${dir}`);
  const workDir = join(outputRoot, `.build-${version}-${process.pid}`);
  await removeWorkDir(workDir, log);
  await mkdir(workDir, { mode: 0o755 });
  try {
    const manifest = await buildInto({
      workDir,
      outputRoot,
      recipe,
      version,
      run,
      log,
      signal,
      aptDir: options.aptDir,
    });
    await publish(join(workDir, 'image'), dir);
    await pointCurrentAt(outputRoot, version);
    log(`image ${version} ready in ${manifest.buildSeconds} s`);
    return { version, dir, built: true, manifest };
  } finally {
    await removeWorkDir(workDir, log);
  }
}

// A killed mmdebstrap can leave /proc, /sys or /dev mounted in its tree; deleting recursively
// through those would reach the host's files, so such a work dir is left for the operator.
async function removeWorkDir(workDir: string, log: (line: string) => void): Promise<void> {
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  const inside = mounts
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mountPoint) => mountPoint.startsWith(`${workDir}/`));
  if (inside.length > 0) {
    log(`leaving ${workDir} in place: ${inside.length} file systems are still mounted inside it`);
    return;
  }
  await rm(workDir, { recursive: true, force: true });
}

// Resolves everything the version depends on without downloading or building anything.
async function resolveRecipe(run: CommandRunner, signal?: AbortSignal): Promise<ImageRecipe> {
  const kernel = await resolveKernelPackage({ run, signal });
  const busybox = await runChecked(run, {
    command: 'dpkg-query',
    args: ['-W', '-f', '${Version}', 'busybox-static'],
    signal,
  });
  const initramfsInitSource = renderInitramfsInit({ modules: GUEST_MODULES.map((module) => module.name) });
  return imageRecipe({ kernel, busyboxVersion: busybox.stdout.toString('utf8').trim(), initramfsInitSource });
}

// Every artifact lands in <workDir>/image; the manifest goes last.
async function buildInto(options: {
  workDir: string;
  outputRoot: string;
  recipe: ImageRecipe;
  version: string;
  run: CommandRunner;
  log: (line: string) => void;
  signal?: AbortSignal;
  aptDir?: string;
}): Promise<ImageManifest> {
  const { workDir, recipe, run, log, signal } = options;
  const started = Date.now();
  const stage = join(workDir, 'image');
  await mkdir(stage);
  const kernel = {
    name: recipe.kernelPackage,
    version: recipe.kernelPackageVersion,
    release: recipe.kernelRelease,
  };

  let stepStarted = Date.now();
  log(`apt: locating ${kernel.name} ${kernel.version}…`);
  const kernelFiles = await obtainKernelFiles({
    kernel,
    cacheDir: join(options.outputRoot, '.cache'),
    run,
    log,
    signal,
  });
  log(`apt: kernel from ${kernelFiles.source} (${elapsed(stepStarted)} s)`);

  stepStarted = Date.now();
  const bzImage = await readFile(kernelFiles.bzImagePath);
  await copyFile(kernelFiles.bzImagePath, join(stage, IMAGE_FILES.kernel));
  const { vmlinux, elf, payload } = await extractVmlinux({ bzImage, run, signal });
  await writeFile(join(stage, IMAGE_FILES.vmlinux), vmlinux);
  log(
    `vmlinux: extracted from ${payload.compression} payload, PVH note ${elf.hasPvhNote ? 'present' : 'absent'} (${elapsed(stepStarted)} s)`,
  );

  stepStarted = Date.now();
  const initramfs = await buildInitramfs({ modulesDir: kernelFiles.modulesDir, run, signal });
  await writeFile(join(stage, IMAGE_FILES.initrd), initramfs.image);
  log(
    `initramfs: ${initramfs.modules.length} modules, ${initramfs.image.length} bytes (${elapsed(stepStarted)} s)`,
  );

  const aptSourcesFile = join(workDir, 'guest.sources');
  await writeFile(
    aptSourcesFile,
    renderDeb822(sourcesForSuite(await readHostAptSources(options.aptDir), ROOTFS_SUITE)),
  );
  stepStarted = Date.now();
  const modulesStage = join(workDir, 'modules');
  const staged = await stageContainerModules({ modulesDir: kernelFiles.modulesDir, release: recipe.kernelRelease, target: modulesStage });
  log(`modules: ${staged.modules} container modules for the root, ${staged.bytes} bytes (${elapsed(stepStarted)} s)`);
  await buildRootfs({
    workDir,
    output: join(stage, IMAGE_FILES.rootfs),
    aptSourcesFile,
    files: { guestInit: recipe.guestInit, sshdConfig: recipe.sshdConfig, modules: { dir: modulesStage, release: recipe.kernelRelease } },
    busyboxFile: BUSYBOX_PATH,
    asRoot: process.getuid?.() === 0,
    run,
    log,
    signal,
  });

  const manifest: ImageManifest = {
    formatVersion: recipe.formatVersion,
    version: options.version,
    createdAt: new Date().toISOString(),
    kernelRelease: recipe.kernelRelease,
    kernelCmdline: qemuKernelCmdline(
      parseCpuinfoKhz(await readFile('/proc/cpuinfo', 'utf8').catch(() => '')),
    ),
    kernelCmdlineFirecracker: FIRECRACKER_KERNEL_CMDLINE,
    vmlinuxPvh: elf.hasPvhNote,
    helperBusybox: recipe.helperBusybox,
    inputs: {
      ...recipeForManifest(recipe),
      kernelSource: kernelFiles.source,
      initramfsModules: initramfs.modules,
    },
    files: await describeFiles(stage),
    buildSeconds: Number(elapsed(started)),
  };
  await writeFile(join(stage, IMAGE_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`, {
    mode: 0o644,
  });
  return manifest;
}

async function describeFiles(stage: string): Promise<Record<ImageFileKey, ImageFileInfo>> {
  const entries = await Promise.all(
    IMAGE_FILE_KEYS.map(async (key): Promise<[ImageFileKey, ImageFileInfo]> => {
      const path = join(stage, IMAGE_FILES[key]);
      const { size } = await stat(path);
      return [key, { name: IMAGE_FILES[key], size, sha256: await sha256File(path) }];
    }),
  );
  return Object.fromEntries(entries) as Record<ImageFileKey, ImageFileInfo>;
}

// Moves the finished stage into place; a forced rebuild of the same version replaces it.
async function publish(stage: string, dir: string): Promise<void> {
  const old = `${dir}.old-${process.pid}`;
  const hadOld = await rename(dir, old).then(
    () => true,
    () => false,
  );
  await rename(stage, dir);
  if (hadOld) await rm(old, { recursive: true, force: true });
}

/** Repoints `<root>/current` → `<version>` atomically (symlink beside it, then rename over it). */
export async function pointCurrentAt(outputRoot: string, version: string): Promise<void> {
  const temporary = join(outputRoot, `.${CURRENT_LINK}-${process.pid}`);
  await rm(temporary, { force: true });
  await symlink(version, temporary);
  await rename(temporary, join(outputRoot, CURRENT_LINK));
}

function elapsed(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}
