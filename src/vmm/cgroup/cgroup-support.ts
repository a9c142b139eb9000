// Whether this host can limit each VM's CPU and memory with cgroup v2: a cgroup2 mount (the whole
// of /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one) whose root offers
// both the cpu and the memory controller. Read-only: `tart doctor` asks it too.
import { join } from 'node:path';
import type { CgroupFs } from './cgroup-fs.js';

/** The controllers a VM's limits need. */
export const REQUIRED_CONTROLLERS = ['cpu', 'memory'] as const;

/** The Tart parent cgroup under the cgroup2 root; each VM's cgroup is a child of it. */
export const TART_CGROUP = 'tart';

export type CgroupSupport =
  | { available: true; mount: string; parent: string; controllers: string[] }
  | { available: false; reason: string; mount?: string; controllers: string[] };

export async function detectCgroupSupport(fs: CgroupFs, mountinfoPath = '/proc/self/mountinfo'): Promise<CgroupSupport> {
  const mount = cgroup2MountOf((await fs.read(mountinfoPath)) ?? '');
  if (!mount) return { available: false, reason: 'no cgroup v2 filesystem mounted', controllers: [] };
  const controllers = ((await fs.read(join(mount, 'cgroup.controllers'))) ?? '').split(/\s+/).filter(Boolean);
  const missing = REQUIRED_CONTROLLERS.filter((name) => !controllers.includes(name));
  if (missing.length > 0) {
    return {
      available: false,
      mount,
      controllers,
      reason: `${mount} lacks the ${missing.join(' and ')} controller${missing.length > 1 ? 's' : ''} (controllers: ${controllers.join(' ') || 'none'})`,
    };
  }
  return { available: true, mount, parent: join(mount, TART_CGROUP), controllers };
}

/** The first cgroup2 mount point in a mountinfo text (fields: id parent dev root mountpoint … - fstype …). */
export function cgroup2MountOf(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    if (after?.split(' ')[0] !== 'cgroup2') continue;
    const mountPoint = before?.split(' ')[4];
    if (mountPoint) return mountPoint.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  }
  return undefined;
}
