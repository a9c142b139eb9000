// Which kernel modules the initramfs must carry, and in which order to insmod them: resolved from
// the kernel's own modules.dep so dependencies (virtio_ring before virtio …) are never guessed.
// Pure except `readModuleIndex` and `readModuleObject` (files of the extracted kernel package).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { TartError } from '../errors.js';
import { runChecked, type CommandRunner } from './spawn.js';

/**
 * Modules the guest needs, by module name, in a sensible load order. `optional` ones are skipped
 * when the kernel has neither the module nor the built-in (e.g. vsock on a kernel without it).
 */
export const GUEST_MODULES: ReadonlyArray<{ name: string; optional?: boolean }> = [
  { name: 'virtio_ring' },
  { name: 'virtio' },
  { name: 'virtio_mmio' },
  { name: 'virtio_blk' },
  { name: 'virtio_net' },
  { name: 'ext4' },
  { name: 'overlay' },
  { name: 'virtio_rng', optional: true },
  { name: 'vsock', optional: true },
  { name: 'vmw_vsock_virtio_transport_common', optional: true },
  { name: 'vmw_vsock_virtio_transport', optional: true },
];

/**
 * Module trees (paths under /lib/modules/<release>) the helper root carries, with everything they
 * depend on, for containers inside the job (Docker in the job, #11): netfilter (nf_tables, the
 * iptables tables and matches, NAT, conntrack), the bridge, veth, macvlan/ipvlan/vxlan/dummy links
 * and overlayfs. Nothing loads them at boot: the kernel's own module autoloading runs the helper
 * root's modprobe when dockerd first creates a bridge, a veth pair or a netfilter table.
 */
export const CONTAINER_MODULE_TREES: readonly string[] = [
  'kernel/net/netfilter/',
  'kernel/net/ipv4/netfilter/',
  'kernel/net/ipv6/netfilter/',
  'kernel/net/bridge/',
  'kernel/drivers/net/veth.',
  'kernel/drivers/net/macvlan.',
  'kernel/drivers/net/ipvlan/',
  'kernel/drivers/net/vxlan/',
  'kernel/drivers/net/dummy.',
  'kernel/fs/overlayfs/',
];

/** The index files a modprobe needs beside the modules; depmod writes the rest. */
export const MODULE_INDEX_FILES: readonly string[] = ['modules.order', 'modules.builtin', 'modules.builtin.modinfo'];

export interface ModuleIndex {
  /** module name → path relative to /lib/modules/<release> */
  paths: Map<string, string>;
  /** module path → dependency paths (as listed in modules.dep) */
  dependencies: Map<string, string[]>;
  /** names of modules compiled into the kernel */
  builtin: Set<string>;
}

/** "kernel/drivers/char/hw_random/virtio-rng.ko.xz" → "virtio_rng" */
export function moduleNameOf(path: string): string {
  const file = path.slice(path.lastIndexOf('/') + 1);
  return file.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/** Parses modules.dep and modules.builtin text. */
export function parseModuleIndex(modulesDep: string, modulesBuiltin: string): ModuleIndex {
  const paths = new Map<string, string>();
  const dependencies = new Map<string, string[]>();
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const path = line.slice(0, colon).trim();
    paths.set(moduleNameOf(path), path);
    dependencies.set(
      path,
      line
        .slice(colon + 1)
        .trim()
        .split(/\s+/)
        .filter(Boolean),
    );
  }
  const builtin = new Set(modulesBuiltin.split('\n').filter(Boolean).map(moduleNameOf));
  return { paths, dependencies, builtin };
}

/**
 * Module paths to load, dependencies first, each once. Built-in modules are skipped; a
 * required module that is neither loadable nor built in is an error.
 */
export function resolveModuleLoadOrder(
  index: ModuleIndex,
  wanted: ReadonlyArray<{ name: string; optional?: boolean }>,
): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (path: string): void => {
    if (order.includes(path) || visiting.has(path)) return;
    visiting.add(path);
    for (const dependency of index.dependencies.get(path) ?? []) visit(dependency);
    visiting.delete(path);
    order.push(path);
  };
  for (const { name, optional } of wanted) {
    const path = index.paths.get(name);
    if (path) visit(path);
    else if (!index.builtin.has(name) && !optional) {
      throw new TartError('IMAGE_MODULE_MISSING', `kernel has no module or built-in named ${name}`);
    }
  }
  return order;
}

/** Every module path under `trees` and every module they depend on, sorted. */
export function moduleTreeClosure(index: ModuleIndex, trees: readonly string[]): string[] {
  const selected = new Set<string>();
  const visit = (path: string): void => {
    if (selected.has(path)) return;
    selected.add(path);
    for (const dependency of index.dependencies.get(path) ?? []) visit(dependency);
  };
  for (const path of index.dependencies.keys()) if (trees.some((tree) => path.startsWith(tree))) visit(path);
  return [...selected].sort();
}

/** Reads modules.dep and modules.builtin from an extracted /lib/modules/<release>. */
export async function readModuleIndex(modulesDir: string): Promise<ModuleIndex> {
  const [dep, builtin] = await Promise.all([
    readFile(join(modulesDir, 'modules.dep'), 'utf8'),
    readFile(join(modulesDir, 'modules.builtin'), 'utf8').catch(() => ''),
  ]);
  return parseModuleIndex(dep, builtin);
}

/** Reads one module, decompressed (busybox insmod takes plain .ko files). */
export async function readModuleObject(options: {
  modulesDir: string;
  path: string;
  run: CommandRunner;
  signal?: AbortSignal;
}): Promise<Buffer> {
  const file = join(options.modulesDir, options.path);
  if (options.path.endsWith('.ko')) return readFile(file);
  if (options.path.endsWith('.ko.gz')) return promisify(gunzip)(await readFile(file));
  const tool = options.path.endsWith('.ko.xz') ? 'xz' : options.path.endsWith('.ko.zst') ? 'zstd' : undefined;
  if (!tool) throw new TartError('IMAGE_MODULE_MISSING', `unknown module compression: ${options.path}`);
  const result = await runChecked(options.run, {
    command: tool,
    args: ['-dc', '--', file],
    signal: options.signal,
  });
  return result.stdout;
}

/** Where a module is placed inside the initramfs (always uncompressed). */
export function initramfsModulePath(path: string): string {
  return `lib/modules/${moduleNameOf(path)}.ko`;
}
