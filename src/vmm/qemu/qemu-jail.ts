// The root a guarded VM's QEMU is confined to once it has opened its files (`-chroot`): an empty
// directory of the VM's own, root's and 0755, holding only a copy of the host's resolv.conf
// (slirp re-reads /etc/resolv.conf for the guest's DNS after start). QEMU opens its disks, kernel,
// initrd, QMP socket and pid file by path before the chroot, then drops to `vm_user` (-runas);
// nothing else of the host is reachable by path afterwards.
import { copyFile, chmod, mkdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TartError } from '../../errors.js';

/** The jail's name inside the VM's runtime dir. */
export const QEMU_JAIL_DIR = 'jail';

/** Creates `<runtimeDir>/jail` (0755, nothing in it but etc/resolv.conf when the host has one). */
export async function prepareQemuJail(runtimeDir: string, resolvConf = '/etc/resolv.conf'): Promise<string> {
  const jail = join(runtimeDir, QEMU_JAIL_DIR);
  await mkdir(jail, { mode: 0o755 });
  await chmod(jail, 0o755);
  await mkdir(join(jail, 'etc'), { mode: 0o755 });
  await copyFile(resolvConf, join(jail, 'etc', 'resolv.conf')).then(
    () => chmod(join(jail, 'etc', 'resolv.conf'), 0o644),
    // No resolver file on the host: slirp then has none inside either, as before.
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    },
  );
  return jail;
}

/**
 * Fails unless process `pid`'s root is `jail` (its /proc/<pid>/root link). Checked once QEMU has
 * answered on QMP, which it does only after its chroot, and before the guest is let run.
 */
export async function assertJailed(pid: number, jail: string, procRoot = '/proc'): Promise<void> {
  const root = await readlink(join(procRoot, String(pid), 'root')).catch(() => undefined);
  if (root !== jail) {
    throw new TartError('VMM_JAIL_FAILED', `QEMU (pid ${pid}) is not confined to ${jail}: its root is ${root ?? 'unknown'}`, {
      details: { pid, jail, root },
    });
  }
}
