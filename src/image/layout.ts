// Where images live and what an image directory holds: `<root>/<version>/{vmlinuz, vmlinux,
// initrd.img, rootfs.ext4, manifest.json}` plus a `<root>/current` symlink. Read by the VM
// executor (paths, kernel command line) and by `tart doctor` (verifyImage).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TartError, UserError } from '../errors.js';

export const IMAGE_FILES = {
  kernel: 'vmlinuz',
  vmlinux: 'vmlinux',
  initrd: 'initrd.img',
  rootfs: 'rootfs.ext4',
  manifest: 'manifest.json',
} as const;

/** Name of the symlink inside the image root that points at the newest built version. */
export const CURRENT_LINK = 'current';

/** Bumped when the layout or the guest contract implementation changes incompatibly. */
export const IMAGE_FORMAT_VERSION = 1;

export type ImageFileKey = 'kernel' | 'vmlinux' | 'initrd' | 'rootfs';
export const IMAGE_FILE_KEYS: readonly ImageFileKey[] = ['kernel', 'vmlinux', 'initrd', 'rootfs'];

export interface ImageFileInfo {
  name: string;
  size: number;
  sha256: string;
}

export interface ImageManifest {
  formatVersion: number;
  /** Short hash of the inputs; also the directory name. */
  version: string;
  createdAt: string;
  /** `uname -r` of the guest kernel, e.g. 6.1.0-56-cloud-amd64. */
  kernelRelease: string;
  /**
   * Recommended command line for QEMU microvm (reboot=t with -no-reboot ends QEMU; carries the
   * build host's tsc_early_khz, without which TCG boots hang intermittently on a loaded host).
   */
  kernelCmdline: string;
  /** Recommended command line for Firecracker (reboot=k ends the Firecracker process). */
  kernelCmdlineFirecracker: string;
  /** True when vmlinux has the PVH entry note (Firecracker ≥ 1.12 boots it via PVH). */
  vmlinuxPvh: boolean;
  /** The static busybox in the guest's root, for boot commands (absent: an image built before it). */
  helperBusybox?: string;
  inputs: Record<string, unknown>;
  files: Record<ImageFileKey, ImageFileInfo>;
  buildSeconds: number;
}

/** Where root builds the image every user can run jobs with. */
export const SYSTEM_IMAGE_ROOT = '/var/lib/tart/images';

/**
 * `$TART_IMAGE_DIR`, else /var/lib/tart/images for root. Other users get ~/.local/share/tart/images
 * when they built an image there, else the system image when root built one (building needs root,
 * so that is the usual case), else the per-user root.
 */
export function defaultImageRoot(
  env: NodeJS.ProcessEnv = process.env,
  uid = process.getuid?.() ?? 0,
  options: { home?: string; exists?: (path: string) => boolean } = {},
): string {
  if (env.TART_IMAGE_DIR) return env.TART_IMAGE_DIR;
  if (uid === 0) return SYSTEM_IMAGE_ROOT;
  const exists = options.exists ?? existsSync;
  const userRoot = join(
    env.XDG_DATA_HOME || join(options.home ?? homedir(), '.local', 'share'),
    'tart',
    'images',
  );
  if (!exists(join(userRoot, CURRENT_LINK)) && exists(join(SYSTEM_IMAGE_ROOT, CURRENT_LINK)))
    return SYSTEM_IMAGE_ROOT;
  return userRoot;
}

/** The directory `current` resolves to (an image version directory). */
export function currentImageDir(root: string = defaultImageRoot()): string {
  return join(root, CURRENT_LINK);
}

/** Reads and validates `<dir>/manifest.json`. */
export async function readImageManifest(dir: string): Promise<ImageManifest> {
  const path = join(dir, IMAGE_FILES.manifest);
  const text = await readFile(path, 'utf8').catch((cause: unknown) => {
    throw new UserError(
      'IMAGE_NOT_FOUND',
      `no image at ${dir} (as root, run "sudo tart image build": it builds ${SYSTEM_IMAGE_ROOT}/current, which every user can use)`,
      {
        cause,
        details: { path },
      },
    );
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new TartError('IMAGE_MANIFEST_INVALID', `${path} is not JSON`, { cause });
  }
  const problems = manifestProblems(parsed);
  if (problems.length > 0) {
    throw new TartError('IMAGE_MANIFEST_INVALID', `${path}: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return parsed as ImageManifest;
}

export interface ImageVerification {
  ok: boolean;
  manifest?: ImageManifest;
  problems: string[];
}

/** Checks the manifest, then every file's presence, size and sha256. Never throws for a bad image. */
export async function verifyImage(
  dir: string,
  options: { checksums?: boolean } = {},
): Promise<ImageVerification> {
  let manifest: ImageManifest;
  try {
    manifest = await readImageManifest(dir);
  } catch (error) {
    return { ok: false, problems: [error instanceof Error ? error.message : String(error)] };
  }
  const problems: string[] = [];
  for (const key of IMAGE_FILE_KEYS) {
    const file = manifest.files[key];
    const path = join(dir, file.name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) problems.push(`${file.name} is missing`);
    else if (info.size !== file.size)
      problems.push(`${file.name} is ${info.size} bytes, manifest says ${file.size}`);
    else if (options.checksums !== false && (await sha256File(path)) !== file.sha256) {
      problems.push(`${file.name} does not match its sha256`);
    }
  }
  return { ok: problems.length === 0, manifest, problems };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function manifestProblems(value: unknown): string[] {
  if (!isRecord(value)) return ['manifest is not an object'];
  const problems: string[] = [];
  const expectType = (key: string, type: 'string' | 'number' | 'boolean'): void => {
    if (typeof value[key] !== type) problems.push(`${key} must be a ${type}`);
  };
  expectType('formatVersion', 'number');
  expectType('version', 'string');
  expectType('createdAt', 'string');
  expectType('kernelRelease', 'string');
  expectType('kernelCmdline', 'string');
  expectType('kernelCmdlineFirecracker', 'string');
  expectType('vmlinuxPvh', 'boolean');
  expectType('buildSeconds', 'number');
  if (value.helperBusybox !== undefined) expectType('helperBusybox', 'string');
  if (value.formatVersion !== undefined && value.formatVersion !== IMAGE_FORMAT_VERSION) {
    problems.push(
      `formatVersion ${String(value.formatVersion)} is not ${IMAGE_FORMAT_VERSION} (rebuild the image)`,
    );
  }
  if (!isRecord(value.inputs)) problems.push('inputs must be an object');
  const files = value.files;
  if (!isRecord(files)) return [...problems, 'files must be an object'];
  for (const key of IMAGE_FILE_KEYS) {
    const file = files[key];
    const valid =
      isRecord(file) &&
      file.name === IMAGE_FILES[key] &&
      typeof file.size === 'number' &&
      typeof file.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(file.sha256);
    if (!valid) problems.push(`files.${key} must be { name: "${IMAGE_FILES[key]}", size, sha256 }`);
  }
  return problems;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
