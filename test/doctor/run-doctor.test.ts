// tart doctor over fed facts (every verdict path that matters), and once for real on this host.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { currentHost } from '../../src/config/paths.js';
import type { ImageManifest } from '../../src/image/layout.js';
import {
  formatReport,
  realDoctorHost,
  runDoctor,
  type CheckResult,
  type DoctorHost,
} from '../../src/doctor/index.js';

const hostFacts = { env: {}, uid: 0, home: '/root', hostname: 'test' };

interface Facts {
  files: Record<string, string>;
  devKvm?: 'rw' | 'none';
  binaries: Record<string, string>;
  probe?: 'kvm' | 'tcg';
  imageOk?: boolean;
  configText?: string;
}

function fakeHost(facts: Facts): DoctorHost & { probes: number } {
  const host = {
    probes: 0,
    env: {},
    exists: async (path: string) =>
      path in facts.files || (path === '/dev/kvm' && facts.devKvm !== undefined),
    readWritable: async (path: string) =>
      path === '/dev/kvm' ? facts.devKvm === 'rw' : path === '/dev/net/tun',
    readText: async (path: string) => facts.files[path],
    version: async (binary: string) => facts.binaries[binary],
    probeKvm: async () => {
      host.probes += 1;
      return facts.probe ?? 'kvm';
    },
    verifyImage: async () =>
      facts.imageOk === false
        ? { ok: false, problems: ['no image at /img (run "tart image build")'] }
        : { ok: true, problems: [], manifest: { version: 'abc', kernelRelease: '6.1.0' } as ImageManifest },
    loadConfig: async (path: string) => {
      if (facts.configText === undefined) throw new UserError('CONFIG_NOT_FOUND', `no ${path}`);
      return parseConfig(facts.configText, path, { imageDir: '/img', hostname: 'test' });
    },
  };
  return host;
}

const byName = (results: CheckResult[], name: string) => results.find((result) => result.name === name);
const qemuOnly = { 'qemu-system-x86_64': 'QEMU emulator version 7.2.22', nft: 'nftables v1.0.6' };
const firecrackerConfig = `[[runners]]\nname = "fc"\nurl = "https://gitlab.example.com"\ntoken = "glrt-x"\nexecutor = "firecracker"\n[runners.firecracker]\nuse_jailer = true\n`;

describe('tart doctor', () => {
  it('reports a PVM-only host as a warning for QEMU users, with TCG ready and Firecracker absent', async () => {
    const host = fakeHost({
      files: { '/proc/modules': 'kvm_pvm 61440 0 - Live 0x0\nkvm 1 1 kvm_pvm\n' },
      devKvm: 'rw',
      binaries: qemuOnly,
    });
    const report = await runDoctor({ host, configPath: '/etc/tart/config.toml', hostFacts });
    assert.equal(byName(report.results, 'kvm')?.verdict, 'warn');
    assert.match(byName(report.results, 'kvm')?.fact ?? '', /PVM-only/);
    assert.equal(byName(report.results, 'firecracker')?.verdict, 'warn');
    assert.equal(byName(report.results, 'qemu-tcg')?.verdict, 'ok');
    assert.equal(byName(report.results, 'config')?.verdict, 'warn');
    assert.equal(report.exitCode, 0);
  });

  it('fails when a Firecracker runner is configured on a host without Firecracker or real KVM', async () => {
    const host = fakeHost({
      files: { '/sys/module/kvm_pvm': '' },
      binaries: qemuOnly,
      configText: firecrackerConfig,
    });
    const report = await runDoctor({ host, configPath: '/etc/tart/config.toml', hostFacts });
    assert.equal(byName(report.results, 'kvm')?.verdict, 'fail');
    assert.equal(byName(report.results, 'firecracker')?.verdict, 'fail');
    assert.equal(byName(report.results, 'jailer')?.verdict, 'fail');
    assert.equal(byName(report.results, 'qemu-tcg')?.verdict, 'ok', 'QEMU and the image are present');
    assert.equal(report.exitCode, 1);
  });

  it('reports what isolates the VMs: the QEMU sandbox, the uid, and whether user-mode networking is behind the host guard', async () => {
    const qemuUser = `[[runners]]\nname = "vm"\nurl = "https://gitlab.example.com"\ntoken = "glrt-x"\nexecutor = "qemu"\n[runners.vm]\nnetwork = "user"\n`;
    const isolationOf = async (configText: string, uid: number) =>
      byName(
        (
          await runDoctor({
            host: fakeHost({ files: {}, binaries: qemuOnly, configText }),
            configPath: '/c',
            hostFacts: { ...hostFacts, uid },
          })
        ).results,
        'isolation',
      );
    const guarded = await isolationOf(qemuUser, 0);
    assert.equal(guarded?.verdict, 'ok', guarded?.fact);
    assert.match(guarded?.fact ?? '', /host guard on for network = "user" \(vm\): QEMU as tart-vm/);
    assert.match(
      guarded?.fact ?? '',
      /QEMU jailed per VM \(vm\): -chroot into an empty dir of its VM, -runas tart-vm with no capability, -sandbox on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny/,
    );
    assert.doesNotMatch(guarded?.fact ?? '', /not chrooted/);
    assert.doesNotMatch(guarded?.fact ?? '', /reach this host's loopback/);

    const open = await isolationOf(`${qemuUser}host_guard = false\n`, 0);
    assert.equal(open?.verdict, 'warn');
    assert.match(
      open?.fact ?? '',
      /-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny as uid 0, not chrooted \(vm\)/,
    );
    assert.doesNotMatch(open?.fact ?? '', /jailed/);
    assert.match(open?.fact ?? '', /network = "user" lets jobs reach this host's loopback \(vm\)/);

    const notRoot = await isolationOf(qemuUser, 1001);
    assert.equal(notRoot?.verdict, 'fail', 'the guard cannot load: its VMs would fail');
    assert.match(notRoot?.fact ?? '', /host guard cannot be loaded/);

    const tap = await isolationOf(qemuUser.replace('"user"', '"tap"'), 1001);
    assert.equal(tap?.verdict, 'ok', tap?.fact);

    const jailer = await isolationOf(firecrackerConfig, 0);
    assert.match(jailer?.fact ?? '', /Firecracker under its jailer: chroot, uid, cgroups \(fc\)/);
    const noJailer = await isolationOf(firecrackerConfig.replace('use_jailer = true', 'use_jailer = false'), 0);
    assert.equal(noJailer?.verdict, 'warn');
    assert.match(noJailer?.fact ?? '', /use_jailer = false: Firecracker runs as uid 0 with no chroot \(fc\)/);
  });

  it('reports whether each VM gets cgroup v2 CPU and memory limits, as detected on the host', async () => {
    const cgroupsOf = async (support: Awaited<ReturnType<NonNullable<DoctorHost['cgroupSupport']>>> | undefined, uid = 0) =>
      byName(
        (
          await runDoctor({
            host: { ...fakeHost({ files: {}, binaries: qemuOnly }), ...(support ? { cgroupSupport: async () => support } : {}) },
            configPath: '/c',
            hostFacts: { ...hostFacts, uid },
          })
        ).results,
        'cgroups',
      );
    const hybrid = await cgroupsOf({
      available: false,
      mount: '/sys/fs/cgroup/unified',
      controllers: ['hugetlb'],
      reason: 'lacks',
    });
    assert.equal(hybrid?.verdict, 'warn');
    assert.equal(
      hybrid?.fact,
      'cgroup limits: not available (controllers: hugetlb at /sys/fs/cgroup/unified; per-VM limits need cpu and memory): VMs run without CPU and memory limits',
    );
    const unified = { available: true as const, mount: '/sys/fs/cgroup', parent: '/sys/fs/cgroup/tart', controllers: ['cpu', 'memory'] };
    const limited = await cgroupsOf(unified);
    assert.equal(limited?.verdict, 'ok');
    assert.equal(
      limited?.fact,
      'cgroup limits: each QEMU in /sys/fs/cgroup/tart/<vm> with memory.max (memory_mb + QEMU overhead) and cpu.max (vcpus)',
    );
    assert.equal((await cgroupsOf(unified, 1001))?.verdict, 'warn', 'only root can make the cgroups');
    assert.match((await cgroupsOf(undefined))?.fact ?? '', /not checked/);
  });

  it('trusts KVM only after a probe boot succeeds', async () => {
    const good = fakeHost({
      files: { '/proc/modules': 'kvm_intel 1 0\n' },
      devKvm: 'rw',
      binaries: qemuOnly,
      probe: 'kvm',
    });
    const goodReport = await runDoctor({ host: good, configPath: '/c', hostFacts });
    assert.equal(byName(goodReport.results, 'kvm')?.verdict, 'ok');
    assert.equal(good.probes, 1);
    const bad = fakeHost({ files: {}, devKvm: 'rw', binaries: qemuOnly, probe: 'tcg' });
    assert.equal(
      byName((await runDoctor({ host: bad, configPath: '/c', hostFacts })).results, 'kvm')?.verdict,
      'warn',
    );
  });

  it('fails on an invalid config and on a missing image when VMs are configured', async () => {
    const host = fakeHost({
      files: {},
      binaries: qemuOnly,
      configText: 'concurrent = "many"\n',
      imageOk: false,
    });
    const report = await runDoctor({ host, configPath: '/c', hostFacts });
    assert.equal(byName(report.results, 'config')?.verdict, 'fail');
    assert.equal(
      byName(report.results, 'image')?.verdict,
      'fail',
      'no config means the qemu path is required',
    );
    assert.equal(byName(report.results, 'qemu-tcg')?.verdict, 'fail');
    assert.equal(report.exitCode, 1);
    assert.match(formatReport(report), /^fail {2}config {7}\/c is invalid: .*\(fix: /m);
  });

  it('says, on this machine, that KVM is PVM-only, Firecracker is absent and the QEMU/TCG path is ready', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tart-doctor-'));
    try {
      const configPath = join(dir, 'config.toml');
      await writeFile(
        configPath,
        `[[runners]]\nname = "q"\nurl = "https://gitlab.example.com"\ntoken = "glrt-x"\nexecutor = "qemu"\n`,
      );
      const host = currentHost();
      const report = await runDoctor({
        host: realDoctorHost({ ...host, env: { ...host.env, FIRECRACKER_BIN: '' } }),
        configPath,
        hostFacts: host,
      });
      const kvm = byName(report.results, 'kvm');
      assert.equal(kvm?.verdict, 'warn', kvm?.fact);
      assert.match(kvm?.fact ?? '', /PVM-only/);
      assert.equal(byName(report.results, 'firecracker')?.verdict, 'warn');
      assert.match(byName(report.results, 'firecracker')?.fact ?? '', /absent/);
      assert.equal(byName(report.results, 'qemu-tcg')?.verdict, 'ok', formatReport(report));
      assert.equal(byName(report.results, 'config')?.verdict, 'ok');
      assert.equal(report.exitCode, 0, formatReport(report));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
