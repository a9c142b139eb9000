// A cgroup v2 filesystem in a temp dir, answering as the kernel's does for what Tart uses: a
// mountinfo naming it, a root offering `controllers`, a new cgroup's control files made by mkdir
// (memory.max and cpu.max only where the parent enabled that controller), subtree_control that
// accepts only offered controllers, cgroup.procs taking a pid, and rmdir refusing (EBUSY) while a
// live process is inside.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CgroupFs } from '../../src/vmm/cgroup/cgroup-fs.js';

export interface FakeCgroupHost {
  fs: CgroupFs;
  /** The fake /proc/self/mountinfo. */
  mountinfoPath: string;
  /** Where the fake cgroup2 is "mounted". */
  mount: string;
}

export async function fakeCgroupHost(dir: string, options: { controllers: string[]; mounted?: boolean }): Promise<FakeCgroupHost> {
  const mount = join(dir, 'sys', 'fs', 'cgroup', 'unified');
  const mountinfoPath = join(dir, 'mountinfo');
  await mkdir(mount, { recursive: true });
  await writeFile(join(mount, 'cgroup.controllers'), `${options.controllers.join(' ')}\n`);
  await writeFile(join(mount, 'cgroup.subtree_control'), '\n');
  await writeFile(join(mount, 'cgroup.procs'), '');
  const lines = [
    '22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
    '31 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
    '33 31 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory',
    ...(options.mounted === false ? [] : [`41 31 0:38 / ${mount} rw,relatime shared:10 - cgroup2 cgroup2 rw`]),
  ];
  await writeFile(mountinfoPath, `${lines.join('\n')}\n`);
  const words = async (path: string) => (await readFile(path, 'utf8')).split(/\s+/).filter(Boolean);
  const fail = (code: string, path: string) => Object.assign(new Error(`${code}: ${path}`), { code });
  const fs: CgroupFs = {
    read: (path) => readFile(path, 'utf8').catch(() => undefined),
    async write(path, text) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      const cgroup = path.slice(0, path.lastIndexOf('/'));
      await readFile(path).catch(() => {
        throw fail('ENOENT', path);
      });
      if (name === 'cgroup.subtree_control') {
        const offered = await words(join(cgroup, 'cgroup.controllers'));
        const enabled = new Set(await words(path));
        for (const change of text.split(/\s+/).filter(Boolean)) {
          const controller = change.slice(1);
          if (!offered.includes(controller)) throw fail('EINVAL', path);
          if (change.startsWith('+')) enabled.add(controller);
          else enabled.delete(controller);
        }
        return writeFile(path, `${[...enabled].join(' ')}\n`);
      }
      if (name === 'cgroup.procs') {
        if (!/^\d+$/.test(text.trim())) throw fail('EINVAL', path);
        return writeFile(path, `${text.trim()}\n`);
      }
      return writeFile(path, text);
    },
    async mkdir(path) {
      const parent = path.slice(0, path.lastIndexOf('/'));
      try {
        await mkdir(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
        throw error;
      }
      const enabled = await words(join(parent, 'cgroup.subtree_control'));
      await writeFile(join(path, 'cgroup.controllers'), `${enabled.join(' ')}\n`);
      await writeFile(join(path, 'cgroup.subtree_control'), '\n');
      await writeFile(join(path, 'cgroup.procs'), '');
      if (enabled.includes('memory')) await writeFile(join(path, 'memory.max'), 'max\n');
      if (enabled.includes('cpu')) await writeFile(join(path, 'cpu.max'), 'max 100000\n');
    },
    async rmdir(path) {
      const entries = await readdir(path, { withFileTypes: true }).catch(() => {
        throw fail('ENOENT', path);
      });
      if (entries.some((entry) => entry.isDirectory())) throw fail('EBUSY', path);
      const pids = (await words(join(path, 'cgroup.procs'))).map(Number);
      if (pids.some(alive)) throw fail('EBUSY', path);
      await rm(path, { recursive: true });
    },
  };
  return { fs, mountinfoPath, mount };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
