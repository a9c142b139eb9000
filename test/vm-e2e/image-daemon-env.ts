// What the container-image VM e2e files share: a runtime root, an image store, a real registry on
// 127.0.0.1 with the test images pushed, the fake GitLab with one project and runner, and a QEMU
// daemon allowed to pull from the registry (and any other `allowedImages`); cleanup undoes it all.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestRuntimeRoot, IMAGE_DIR, removeTestRuntimeRoot, requireImage } from '../executor/vm/support/vm-test-env.js';
import { startFakeGitLab, type FakeGitLab } from '../support/fake-gitlab/index.js';
import { createRepo, type TestRepo } from '../support/git-repo.js';
import { startRegistry, type TestRegistry } from '../support/oci/registry.js';
import { startQemuDaemon, type QemuDaemonHarness } from './qemu-daemon-harness.js';

export interface ImageDaemonEnv {
  runtimeRoot: string;
  storeDir: string;
  registry: TestRegistry;
  fake: FakeGitLab;
  repo: TestRepo;
  harness: QemuDaemonHarness;
  cleanup(): Promise<void>;
}

export async function startImageDaemonEnv(options: {
  /** Names the runtime root. */
  name: string;
  runnerToken: string;
  readme: string;
  /** Pushes the file's test images to the registry. */
  push: (registry: TestRegistry) => Promise<void>;
  /** More allowed_images globs than the registry's own. */
  allowedImages?: string[];
  /** allowed_services globs, given the registry. */
  allowedServices?: (registry: TestRegistry) => string[];
  /** More [runners.vm] lines (the last of the runner's table: later tables may follow), given the registry. */
  vmLines?: string[] | ((registry: TestRegistry) => string[]);
}): Promise<ImageDaemonEnv> {
  await requireImage();
  const parts: Partial<ImageDaemonEnv> = {};
  const cleanup = async () => {
    await parts.harness?.cleanup();
    await parts.fake?.close();
    await parts.repo?.cleanup();
    await parts.registry?.stop();
    if (parts.runtimeRoot) await removeTestRuntimeRoot(parts.runtimeRoot);
    if (parts.storeDir) await rm(parts.storeDir, { recursive: true, force: true });
  };
  try {
    const runtimeRoot = (parts.runtimeRoot = await createTestRuntimeRoot(options.name));
    process.env.TART_RUNTIME_DIR = runtimeRoot;
    const storeDir = (parts.storeDir = await mkdtemp(join(tmpdir(), 'tart-image-store-')));
    const registry = (parts.registry = await startRegistry());
    await options.push(registry);
    const fake = (parts.fake = await startFakeGitLab({ traceUpdateInterval: 1 }));
    const repo = (parts.repo = await createRepo({ files: { 'README.md': options.readme } }));
    fake.addProject({ path: 'acme/widget', repo });
    fake.addRunner({ token: options.runnerToken });
    const allowed = [`${registry.host}/**`, ...(options.allowedImages ?? [])];
    parts.harness = await startQemuDaemon({
      url: fake.url,
      token: options.runnerToken,
      concurrent: 1,
      imageDir: IMAGE_DIR,
      runtimeRoot,
      vmLines: [
        `image_store = "${storeDir}"`,
        `allowed_images = ${JSON.stringify(allowed)}`,
        ...(options.allowedServices ? [`allowed_services = ${JSON.stringify(options.allowedServices(registry))}`] : []),
        ...(typeof options.vmLines === 'function' ? options.vmLines(registry) : (options.vmLines ?? [])),
      ],
    });
    return { ...(parts as Omit<ImageDaemonEnv, 'cleanup'>), cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
