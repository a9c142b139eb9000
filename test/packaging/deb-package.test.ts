// The Debian package: built by scripts/build-deb.sh with dpkg-deb, inspected with dpkg-deb -I/-c,
// installed into a throw-away root with dpkg --root (maintainer scripts run chrootless against
// $DPKG_ROOT), then the installed tart runs from there; finally purged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { copyCheckout } from '../support/package-build.js';

const execFileAsync = promisify(execFile);
const run = (command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  execFileAsync(command, args, { maxBuffer: 64 * 1024 * 1024, ...options });

// "pkg (>= 1.2)" entries of a Depends: line.
function parseDepends(line: string): { name: string; relation?: string; version?: string }[] {
  return line.split(',').map((entry) => {
    const match = /^\s*([a-z0-9.+-]+)(?:\s*\(([<>=]+)\s*([^)]+)\))?\s*$/.exec(entry);
    if (!match?.[1]) throw new Error(`cannot parse dependency "${entry}"`);
    return { name: match[1], ...(match[2] ? { relation: match[2], version: match[3]?.trim() } : {}) };
  });
}

// A root dpkg can install into: an empty database and the account files useradd --prefix edits.
async function throwAwayRoot(dir: string): Promise<string> {
  const root = join(dir, 'root');
  await mkdir(join(root, 'var', 'lib', 'dpkg', 'info'), { recursive: true });
  await mkdir(join(root, 'var', 'lib', 'dpkg', 'updates'), { recursive: true });
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'var', 'lib', 'dpkg', 'status'), '');
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  await writeFile(join(root, 'etc', 'group'), 'root:x:0:\n');
  await writeFile(join(root, 'etc', 'shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o600 });
  await writeFile(join(root, 'etc', 'gshadow'), 'root:*::\n', { mode: 0o600 });
  return root;
}

test(
  'the .deb carries the CLI, unit, config and user, and its tart runs from a throw-away root',
  { timeout: 600_000, skip: process.getuid?.() !== 0 && 'dpkg --root with owners needs root' },
  async () => {
    const build = await copyCheckout();
    try {
      const { stdout: built } = await run('bash', ['scripts/build-deb.sh', '--output', build.dir], {
        cwd: build.checkout,
        env: { ...process.env, TART_REVISION: build.revision },
      });
      const deb = built.trim().split('\n').at(-1) ?? '';
      assert.match(deb, /tart_\d+\.\d+\.\d+-1_amd64\.deb$/);

      // Control data: dependencies this host satisfies, the conffile, the maintainer scripts.
      const { stdout: info } = await run('dpkg-deb', ['-I', deb]);
      const field = (name: string) => new RegExp(`^ ${name}: (.*)$`, 'm').exec(info)?.[1] ?? '';
      assert.equal(field('Package'), 'tart');
      const depends = parseDepends(field('Depends'));
      for (const name of [
        'nodejs',
        'qemu-system-x86',
        'qemu-utils',
        'git',
        'nftables',
        'iproute2',
        'e2fsprogs',
        'adduser',
      ])
        assert.ok(
          depends.some((dependency) => dependency.name === name),
          `Depends on ${name}`,
        );
      assert.deepEqual(
        depends.find((dependency) => dependency.name === 'nodejs'),
        {
          name: 'nodejs',
          relation: '>=',
          version: '20.12',
        },
      );
      for (const dependency of depends) {
        const { stdout: installed } = await run('dpkg-query', ['-W', '-f=${Version}', dependency.name]);
        if (dependency.relation && dependency.version)
          await run('dpkg', [
            '--compare-versions',
            installed,
            dependency.relation.replace('>=', 'ge'),
            dependency.version,
          ]);
      }
      assert.match(info, /^\s+\d+ bytes,\s+\d+ lines\s+\*\s+postinst\s+#!\/bin\/sh$/m);
      assert.match(info, /^\s+\d+ bytes,\s+\d+ lines\s+\*\s+prerm\s/m);
      assert.match(info, /^\s+\d+ bytes,\s+\d+ lines\s+\*\s+postrm\s/m);
      const control = join(build.dir, 'control');
      await run('dpkg-deb', ['-e', deb, control]);
      assert.equal(await readFile(join(control, 'conffiles'), 'utf8'), '/etc/tart/config.toml\n');
      const postinst = await readFile(join(control, 'postinst'), 'utf8');
      for (const script of ['postinst', 'prerm', 'postrm']) await run('sh', ['-n', join(control, script)]);
      assert.doesNotMatch(
        postinst,
        /^\s*(systemctl|deb-systemd-invoke|invoke-rc\.d)\s+(enable|start|restart)/m,
        'nothing starts before a runner is registered',
      );

      // Files and modes.
      const { stdout: listing } = await run('dpkg-deb', ['-c', deb]);
      const entry = (path: string) =>
        listing.split('\n').find((line) => line.endsWith(` ./${path}`) || line.includes(` ./${path} -> `));
      assert.match(entry('etc/tart/config.toml') ?? '', /^-rw------- root\/root /);
      assert.match(entry('etc/tart/') ?? '', /^drwx------ root\/root /);
      assert.match(
        entry('usr/bin/tart') ?? '',
        /^lrwxrwxrwx root\/root .* \.\/usr\/bin\/tart -> \.\.\/lib\/tart\/bin\/tart\.js$/,
      );
      assert.match(entry('usr/lib/tart/bin/tart.js') ?? '', /^-rwxr-xr-x root\/root /);
      assert.match(entry('lib/systemd/system/tart.service') ?? '', /^-rw-r--r-- root\/root /);
      assert.ok(entry('usr/lib/tart/dist/cli/main.js'));
      for (const path of [
        'usr/share/man/man1/tart.1.gz',
        'usr/share/bash-completion/completions/tart',
        'usr/share/zsh/vendor-completions/_tart',
        'usr/share/fish/vendor_completions.d/tart.fish',
      ])
        assert.match(entry(path) ?? '', /^-rw-r--r-- root\/root /, path);
      assert.ok(
        entry('usr/lib/tart/node_modules/commander/package.json'),
        'runtime dependencies are bundled',
      );
      assert.equal(entry('usr/lib/tart/node_modules/tsx/package.json'), undefined, 'no dev dependency');
      assert.doesNotMatch(listing, / \.\/usr\/lib\/tart\/(src|test)\//);

      // Install into a throw-away root; the maintainer scripts work on $DPKG_ROOT.
      const root = await throwAwayRoot(build.dir);
      const dpkg = ['--root', root, '--force-script-chrootless', '--force-depends', '--log=/dev/null'];
      const { stdout: installOutput } = await run('dpkg', [...dpkg, '-i', deb]);
      assert.match(installOutput, /nothing runs yet/);
      const passwd = await readFile(join(root, 'etc', 'passwd'), 'utf8');
      const account = /^tart:x:(\d+):(\d+):[^:]*:\/var\/lib\/tart:\/usr\/sbin\/nologin$/m.exec(passwd);
      assert.ok(account, 'the tart system user exists');
      assert.ok(Number(account[1]) < 1000, 'a system uid');
      const vmAccount = /^tart-vm:x:(\d+):(\d+):[^:]*:\/nonexistent:\/usr\/sbin\/nologin$/m.exec(passwd);
      assert.ok(vmAccount, 'the tart-vm system user guarded QEMUs run as exists');
      assert.ok(Number(vmAccount[1]) < 1000 && Number(vmAccount[1]) !== Number(account[1]), 'its own system uid');
      const config = await stat(join(root, 'etc', 'tart', 'config.toml'));
      assert.equal(config.mode & 0o777, 0o600);
      assert.equal(config.uid, Number(account[1]), 'config.toml belongs to tart');
      assert.match(
        await readFile(join(root, 'etc', 'tart', 'config.toml'), 'utf8'),
        /^# Tart's configuration/,
      );
      assert.equal((await stat(join(root, 'var', 'lib', 'tart'))).uid, Number(account[1]));
      const unit = await readFile(join(root, 'lib', 'systemd', 'system', 'tart.service'), 'utf8');
      assert.match(unit, /^ExecStart=\/usr\/bin\/tart run --config \/etc\/tart\/config\.toml$/m);
      assert.match(unit, /^User=tart$/m);

      const tart = join(root, 'usr', 'bin', 'tart');
      const env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: build.dir };
      const version = await run(tart, ['--version'], { cwd: build.dir, env });
      assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
      const doctor = await run(tart, ['--config', join(root, 'etc', 'tart', 'config.toml'), 'doctor'], {
        cwd: build.dir,
        env,
      });
      assert.match(doctor.stdout, /^ok\s+config\s+.*config\.toml is valid \(0 runner\(s\)/m);
      assert.match(doctor.stdout, /^(ok|warn|fail)\s+qemu\s/m);

      await run('dpkg', [...dpkg, '--purge', 'tart']);
      await assert.rejects(stat(join(root, 'usr', 'lib', 'tart', 'dist')));
      await assert.rejects(stat(join(root, 'etc', 'tart', 'config.toml')));
    } finally {
      await build.cleanup();
    }
  },
);
