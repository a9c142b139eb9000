// `[runners.vm] vm_user`: the unprivileged uid/gid a guarded VM's QEMU runs as, written
// `user[:group]`, each a name (looked up with getent) or a number (no account needed). Without a
// group, a named user's primary group; a bare number is its own gid.
import { TartError } from '../../errors.js';
import { runCollect } from '../../process/run.js';

export interface VmUser {
  uid: number;
  gid: number;
}

/**
 * Resolves `spec` once per call; a user or group that does not exist is a clear error, except the
 * default account, which root creates on first use as the Debian package's postinst does.
 */
export async function resolveVmUser(spec: string, options: { defaultUser?: string } = {}): Promise<VmUser> {
  const [userPart = '', groupPart] = spec.split(':');
  const createsDefault = userPart === options.defaultUser && groupPart === undefined && process.getuid?.() === 0;
  const user = /^\d+$/.test(userPart)
    ? { uid: Number(userPart), gid: Number(userPart) }
    : await lookupUser(userPart).catch(async (error: unknown) => {
        if (!createsDefault || !(error instanceof TartError) || error.code !== 'VM_USER_MISSING') throw error;
        await createSystemUser(userPart);
        return lookupUser(userPart);
      });
  const gid =
    groupPart === undefined || groupPart === ''
      ? user.gid
      : /^\d+$/.test(groupPart)
        ? Number(groupPart)
        : await lookupGroup(groupPart);
  if (user.uid === 0 || gid === 0) {
    throw new TartError('VM_USER_INVALID', `[runners.vm] vm_user = "${spec}" names root: QEMU must run unprivileged`);
  }
  return { uid: user.uid, gid };
}

async function lookupUser(name: string): Promise<VmUser> {
  const fields = await getent('passwd', name, spec(name));
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

// A system account with no login and no home; its primary group is kvm where there is one
// (QEMU starts with that gid only, and /dev/kvm is the kvm group's).
async function createSystemUser(name: string): Promise<void> {
  const kvm = await runCollect({ command: 'getent', args: ['group', 'kvm'] }).catch(() => undefined);
  const group = kvm?.exitCode === 0 ? ['--gid', 'kvm'] : ['--user-group'];
  const args = ['--system', ...group, '--home-dir', '/nonexistent', '--no-create-home', '--shell', '/usr/sbin/nologin'];
  const result = await runCollect({ command: 'useradd', args: [...args, '--comment', 'Tart job VMs (QEMU)', name] }).catch(
    (error: unknown) => ({ exitCode: -1, stdout: Buffer.alloc(0), stderr: Buffer.from((error as Error).message) }),
  );
  // Another daemon may have created it meanwhile (exit 9: the user exists).
  if (result.exitCode !== 0 && result.exitCode !== 9) {
    throw new TartError('VM_USER_MISSING', `cannot create the system user ${name} for guarded QEMU: ${result.stderr.toString('utf8').trim()}`);
  }
}

async function lookupGroup(name: string): Promise<number> {
  return Number((await getent('group', name, spec(name)))[2]);
}

async function getent(database: string, key: string, described: string): Promise<string[]> {
  const result = await runCollect({ command: 'getent', args: [database, key] }).catch(() => undefined);
  const line = result?.exitCode === 0 ? result.stdout.toString('utf8').split('\n')[0] ?? '' : '';
  const fields = line.split(':');
  if (fields.length < 3 || !/^\d+$/.test(fields[2] ?? '')) {
    throw new TartError(
      'VM_USER_MISSING',
      `${described} does not exist on this host: QEMU of a guarded user-mode VM runs as it ` +
        '(fix: adduser --system --group tart-vm, or set [runners.vm] vm_user = "<uid>:<gid>"; docs/security.md)',
    );
  }
  return fields;
}

function spec(name: string): string {
  return `[runners.vm] vm_user's "${name}"`;
}
