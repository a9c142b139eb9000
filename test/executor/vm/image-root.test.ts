// The image's USER, resolved as runc resolves a container's user: the resolution script runs here
// under the host's static busybox (the same binary the guest uses) against a root of passwd and
// group files, and the stage argv switches to the numbers it printed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  GUEST_BUSYBOX,
  IMAGE_ROOT,
  imageRootSetupCommand,
  isRootUser,
  parseResolvedUser,
  resolvedUserOf,
  userResolutionScript,
  userStageCommand,
  volumeMounts,
} from '../../../src/executor/vm/image-root.js';

const BUSYBOX = '/bin/busybox';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'node:x:1000:1000::/home/node:/bin/sh',
  'app:x:1001:1001:App:/srv/app:/bin/sh',
  'nohome:x:1002:1002:::/bin/sh',
].join('\n');
const GROUP = ['root:x:0:', 'node:x:1000:', 'app:x:1001:', 'staff:x:50:node,app', 'docker:x:999:node'].join('\n');

describe("a job image's user", () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tart-image-user-'));
    await mkdir(join(root, 'etc'));
    await writeFile(join(root, 'etc', 'passwd'), `${PASSWD}\n`);
    await writeFile(join(root, 'etc', 'group'), `${GROUP}\n`);
  });

  after(() => rm(root, { recursive: true, force: true }));

  const resolve = (user: string) => {
    const result = spawnSync(BUSYBOX, ['sh', '-c', userResolutionScript(BUSYBOX, root, user)], { encoding: 'utf8' });
    return { code: result.status, user: parseResolvedUser(result.stdout), stderr: result.stderr.trim() };
  };

  it('resolves a name to its uid, gid, home and the groups that list it', () => {
    assert.deepEqual(resolve('node'), {
      code: 0,
      user: { uid: 1000, gid: 1000, groups: [50, 999], home: '/home/node' },
      stderr: '',
    });
    assert.deepEqual(resolve('app').user, { uid: 1001, gid: 1001, groups: [50], home: '/srv/app' });
  });

  it('resolves a listed uid as its name, and runs an unlisted uid with gid 0 and home /', () => {
    assert.deepEqual(resolve('1000').user, { uid: 1000, gid: 1000, groups: [50, 999], home: '/home/node' });
    assert.deepEqual(resolve('4242').user, { uid: 4242, gid: 0, groups: [0], home: '/' });
    assert.deepEqual(resolve('nohome').user, { uid: 1002, gid: 1002, groups: [1002], home: '/' });
  });

  it('takes ":group" by name or gid as the only group', () => {
    assert.deepEqual(resolve('node:staff').user, { uid: 1000, gid: 50, groups: [50], home: '/home/node' });
    assert.deepEqual(resolve('node:4000').user, { uid: 1000, gid: 4000, groups: [4000], home: '/home/node' });
    assert.deepEqual(resolve('4242:999').user, { uid: 4242, gid: 999, groups: [999], home: '/' });
  });

  it("fails with runc's messages for an unknown name or group, and refuses a spec that is not one", () => {
    assert.deepEqual(resolve('ghost'), {
      code: 1,
      user: undefined,
      stderr: 'unable to find user ghost: no matching entries in passwd file',
    });
    assert.equal(resolve('node:ghosts').stderr, 'unable to find group ghosts: no matching entries in group file');
    const injected = resolve("x'; touch /tmp/pwned; '");
    assert.equal(injected.code, 1);
    assert.match(injected.stderr, /invalid user/);
  });

  it('switches user only for a user that is not root', () => {
    for (const user of ['root', '0', '0:0', 'root:root']) assert.equal(isRootUser(user), true, user);
    for (const user of ['node', '1000', '0:50']) assert.equal(isRootUser(user), false, user);
    assert.ok(!imageRootSetupCommand('/builds', { user: 'root' }).at(-1)!.includes('tart-user'));
    assert.ok(imageRootSetupCommand('/builds', { user: 'node' }).at(-1)!.includes(`${IMAGE_ROOT}/etc/passwd`));
  });

  it("is one exec of the guest's static busybox where the image has one, else the helper root's sh and the disk's busybox", () => {
    const withTools = imageRootSetupCommand('/builds', { user: 'node' }, { helperBusybox: '/usr/lib/tart/busybox' });
    assert.deepEqual(withTools.slice(0, 3), ['/usr/lib/tart/busybox', 'sh', '-c']);
    assert.equal(withTools.length, 4);
    const script = withTools[3]!;
    assert.ok(script.includes("'/dev/vdd /run/tart-image/disk ext4 ro,noload 0 0'"));
    assert.ok(script.includes('/usr/lib/tart/busybox awk'), 'the user is resolved with the same busybox');
    // Four applet processes: two mkdir, two mount -a.
    assert.deepEqual(script.match(/^(?:mkdir|mount) .*$/gm)?.map((line) => line.split(' ').slice(0, 2).join(' ')), ['mkdir -p', 'mount -a', 'mkdir -p', 'mount -a']);
    const without = imageRootSetupCommand('/builds', { user: 'node' });
    assert.deepEqual([without[0], without[1], without[3]], ['sh', '-c', GUEST_BUSYBOX]);
    assert.match(without[2]!, /mount -t ext4 -o ro,noload \/dev\/vdd \/run\/tart-image\/disk && exec "\$0" sh -c "\$1"$/);
    assert.ok(!without[4]!.includes('/dev/vdd'));
  });

  it("reads the resolved user from the setup output only when the user is not root", () => {
    const printed = 'mounted\ntart-user 1000 1000 50,1000 /home/builder\n';
    assert.equal(resolvedUserOf(undefined, printed), undefined);
    assert.equal(resolvedUserOf('0:0', printed), undefined);
    assert.deepEqual(resolvedUserOf('builder', printed), { uid: 1000, gid: 1000, groups: [50, 1000], home: '/home/builder' });
    assert.equal(resolvedUserOf('builder', 'mounted\n'), 'unresolved');
  });

  it("runs a user stage through coreutils chroot as the resolved numbers, with the user's HOME", () => {
    const config = { env: ['PATH=/usr/bin:/bin'], exposedTcpPorts: [] };
    const user = { uid: 1000, gid: 1000, groups: [50, 999], home: '/home/node' };
    const command = userStageCommand(config, ['/entry.sh'], user);
    assert.deepEqual(command.slice(0, 6), [
      GUEST_BUSYBOX,
      'env',
      '-i',
      'PATH=/usr/bin:/bin',
      'HOME=/home/node',
      '/usr/sbin/chroot',
    ]);
    assert.deepEqual(command.slice(6, 10), ['--userspec=1000:1000', '--groups=50,999', IMAGE_ROOT, '/entry.sh']);
    const asRoot = userStageCommand(config, []);
    assert.deepEqual(asRoot.slice(4, 8), ['HOME=/root', GUEST_BUSYBOX, 'chroot', IMAGE_ROOT]);
    assert.ok(userStageCommand({ env: ['HOME=/custom'], exposedTcpPorts: [] }, [], user).includes('HOME=/custom'));
  });
});

// Run in a mount namespace of its own (util-linux unshare), under the host's static busybox.
describe("an image's VOLUMEs", () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tart-image-volumes-'));
    await mkdir(join(dir, 'root', 'var', 'lib', 'docker'), { recursive: true });
    await writeFile(join(dir, 'root', 'var', 'lib', 'docker', 'from-image'), 'seeded\n');
    await mkdir(join(dir, 'root', 'etc', 'certs'), { recursive: true });
    await writeFile(join(dir, 'root', 'etc', 'certs', 'from-image'), 'not for the volume\n');
    await mkdir(join(dir, 'outside'));
    await symlink(join(dir, 'outside'), join(dir, 'root', 'link'));
    await mkdir(join(dir, 'store'));
  });

  after(() => rm(dir, { recursive: true, force: true }));

  it('binds a fresh dir of the scratch disk over each, seeded from the image, and skips paths through symlinks or not plain', () => {
    const root = join(dir, 'root');
    const store = join(dir, 'store');
    const script = [
      'set -eu',
      ...volumeMounts(
        root,
        ['/var/lib/docker', '/link/x', '/a b', '/../etc', '/data/new/'].map((path, index) => ({ path, dir: `${store}/${index}`, seed: true })),
      ),
      // A runner volume: bound as it is, what the image has there not copied in.
      ...volumeMounts(root, [{ path: '/etc/certs', dir: `${store}/shared`, seed: false }]),
      `echo written > ${root}/etc/certs/by-job`,
      `echo written > ${root}/var/lib/docker/by-job`,
      `echo written > ${root}/data/new/by-job`,
    ].join('\n');
    const result = spawnSync('unshare', ['-m', BUSYBOX, 'sh', '-c', script], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, 'volume /link/x skipped: it is a symlink in the image\nvolume skipped: not a plain absolute path\nvolume skipped: not a plain absolute path\n');
    // The binds went with the namespace: what was written is in the volumes, not in the root.
    assert.equal(readFileSync(join(store, '0', 'from-image'), 'utf8'), 'seeded\n');
    assert.equal(readFileSync(join(store, '0', 'by-job'), 'utf8'), 'written\n');
    assert.equal(readFileSync(join(store, '4', 'by-job'), 'utf8'), 'written\n');
    assert.ok(!existsSync(join(root, 'var', 'lib', 'docker', 'by-job')));
    assert.deepEqual(readdirSync(join(dir, 'outside')), [], 'nothing made through the symlink');
    assert.deepEqual(readdirSync(store).sort(), ['0', '4', 'shared']);
    assert.deepEqual(readdirSync(join(store, 'shared')), ['by-job'], 'the image\'s /etc/certs/from-image not copied in');
  });

  it('are part of the root setup only when the image declares them', () => {
    assert.ok(!imageRootSetupCommand('/builds').at(-1)!.includes('volume()'));
    assert.match(imageRootSetupCommand('/builds', { volumes: ['/var/lib/docker'] }).at(-1)!, /\nvolume \/var\/lib\/docker \/run\/tart-image\/scratch\/image\/volumes\/0 seed$/);
    const shared = imageRootSetupCommand('/builds', { sharedVolumes: ['/certs/client'] }).at(-1)!;
    assert.match(shared, /\nvolume \/certs\/client \/run\/tart-image\/scratch\/shared-volumes\/0 as-is$/);
  });
});
