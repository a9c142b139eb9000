// The one seam to the cgroup v2 filesystem (and /proc/self/mountinfo, where it is found). Tests
// hand in the same operations over a temp dir laid out like /sys/fs/cgroup.
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';

export interface CgroupFs {
  /** The text of `path`, or undefined when it cannot be read. */
  read(path: string): Promise<string | undefined>;
  /** Writes `text` to an existing control file (a cgroup's files exist once it is made). */
  write(path: string, text: string): Promise<void>;
  /** Makes a cgroup; one that exists already is kept. */
  mkdir(path: string): Promise<void>;
  /** Removes an empty cgroup (EBUSY while a process is still in it). */
  rmdir(path: string): Promise<void>;
}

export const realCgroupFs: CgroupFs = {
  read: (path) => readFile(path, 'utf8').catch(() => undefined),
  // 'r+': a control file is never created, only written.
  write: (path, text) => writeFile(path, text, { flag: 'r+' }),
  mkdir: async (path) => void (await mkdir(path, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  })),
  rmdir: (path) => rmdir(path),
};
