// The container-image store: pull policies, one pull at a time per image (concurrent jobs, of this
// process or another, wait for it), last-use tracking and LRU eviction under a size limit. Jobs get
// a read-only ext4 root and the image config; entries in use by a job of any process are never
// evicted or removed (store-locks.ts).
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { spawnCommand, type CommandRunner } from '../image/spawn.js';
import { evictLeastRecentlyUsed, removeEntry, removeUnreferencedBlobs, storeSizeBytes } from './eviction.js';
import { readRuntimeConfig, type ImageRuntimeConfig } from './image-config.js';
import { fetchIntoStore, resolveManifest } from './pull.js';
import { ImagePullError } from './pull-errors.js';
import type { PullPolicy } from './pull-policy.js';
import { formatReference, parseImageReference, type ImageReference } from './reference.js';
import { isInsecureRegistry, withAuthFile } from './registry-access.js';
import type { RegistryCredentials } from './registry-auth.js';
import { entriesInUse, markInUse, pullsInFlight, withPullLock, withStoreLock } from './store-locks.js';
import { hexOf, StoreLayout, type StoreEntry } from './store-layout.js';

export interface ImageStoreOptions {
  root: string;
  /** image_store_size_mb in bytes; absent = unlimited. */
  maxSizeBytes?: number;
  insecureRegistries?: readonly string[];
  run?: CommandRunner;
  now?: () => Date;
}

export interface ImageRequest {
  /** The image as the job wrote it (variables expanded). */
  image: string;
  policies: readonly PullPolicy[];
  credentials?: RegistryCredentials;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export interface JobImage {
  image: string;
  reference: string;
  entry: StoreEntry;
  rootfsPath: string;
  config: ImageRuntimeConfig;
  /** Layers fetched from the registry for this request (0 when everything was local). */
  downloadedLayers: number;
  /** Lets the entry be evicted again. */
  release(): void;
}

export class ImageStore {
  readonly layout: StoreLayout;
  private readonly run: CommandRunner;
  private readonly now: () => Date;
  private readonly pulls = new Map<string, Promise<{ entry: StoreEntry; downloadedLayers: number }>>();
  private readonly inUse = new Map<string, number>();

  constructor(private readonly options: ImageStoreOptions) {
    this.layout = new StoreLayout(options.root);
    this.run = options.run ?? spawnCommand;
    this.now = options.now ?? (() => new Date());
  }

  /** The job's image under its pull policies, tried in order as gitlab-runner tries them. */
  async acquire(request: ImageRequest): Promise<JobImage> {
    const reference = parseImageReference(request.image);
    await this.layout.ensure();
    let lastError: unknown;
    for (const [index, policy] of request.policies.entries()) {
      if (index > 0) request.log(`Attempt #${index + 1}: Trying "${policy}" pull policy`);
      try {
        return await this.acquireWith(policy, reference, request);
      } catch (error) {
        if (request.signal?.aborted) throw error;
        lastError = error;
        request.log(`WARNING: Failed to pull image with policy "${policy}": ${(error as Error).message}`);
      }
    }
    const last = lastError instanceof ImagePullError ? lastError : undefined;
    throw new ImagePullError(
      last?.code ?? 'IMAGE_PULL_FAILED',
      `failed to pull image "${request.image}" with specified policies [${request.policies.join(' ')}]: ${(lastError as Error).message}`,
      last?.reason ?? 'image_pull_failure',
      { cause: lastError },
    );
  }

  private async acquireWith(policy: PullPolicy, reference: ImageReference, request: ImageRequest): Promise<JobImage> {
    if (policy !== 'always') {
      const local = await this.findLocal(reference);
      if (local) {
        if (policy === 'if-not-present') request.log('Using locally found image version due to "if-not-present" pull policy');
        return this.hold(request.image, reference, local, 0);
      }
      if (policy === 'never') {
        throw new ImagePullError('IMAGE_NOT_PRESENT', `image "${request.image}" is not in the image store and the pull policy is "never"`, 'runner_system_failure');
      }
    }
    request.log(`Pulling docker image ${request.image} ...`);
    const access = { tlsVerify: !isInsecureRegistry(reference.registry, this.options.insecureRegistries ?? []), signal: request.signal };
    const { entry, downloadedLayers } = await withAuthFile(this.layout.tmpDir, reference.registry, request.credentials, async (authFile) => {
      const registryAccess = { ...access, authFile };
      const resolution = await resolveManifest(this.run, reference, registryAccess);
      const present = await this.layout.readEntry(resolution.manifestDigest);
      if (present) return { entry: present, downloadedLayers: 0 };
      const digest = resolution.manifestDigest;
      const onWait = (pid: number) => request.log(`Waiting for another Tart process (pid ${pid}) to pull ${request.image} ...`);
      return this.singleFlight(digest, () =>
        withPullLock(this.layout, digest, { signal: request.signal, onWait }, async () => {
          // The process that held the lock may have pulled this very image.
          const pulled = await this.layout.readEntry(digest);
          if (pulled) return { entry: pulled, downloadedLayers: 0 };
          return fetchIntoStore(this.run, this.layout, { reference, resolution, access: registryAccess, now: this.now, log: request.log });
        }),
      );
    });
    if (!reference.digest) {
      await this.layout.writeTag({ reference: formatReference(reference), manifestDigest: entry.manifestDigest, repoDigest: entry.repoDigest, resolvedAt: this.now().toISOString() });
    }
    const held = await this.hold(request.image, reference, entry, downloadedLayers);
    await this.evict();
    return held;
  }

  private async findLocal(reference: ImageReference): Promise<StoreEntry | undefined> {
    if (reference.digest) {
      const direct = await this.layout.readEntry(reference.digest);
      if (direct) return direct;
      return (await this.entries()).find((entry) => entry.repoDigest === formatReference(reference));
    }
    const tag = await this.layout.readTag(formatReference(reference));
    return tag ? this.layout.readEntry(tag.manifestDigest) : undefined;
  }

  private singleFlight<T extends { entry: StoreEntry; downloadedLayers: number }>(key: string, pull: () => Promise<T>): Promise<{ entry: StoreEntry; downloadedLayers: number }> {
    const running = this.pulls.get(key);
    if (running) return running.then(({ entry }) => ({ entry, downloadedLayers: 0 }));
    const started = pull().finally(() => this.pulls.delete(key));
    this.pulls.set(key, started);
    return started;
  }

  // Under the store lock, so that no eviction (of this or another process) removes the entry
  // between its check here and the job's in-use marker.
  private async hold(image: string, reference: ImageReference, entry: StoreEntry, downloadedLayers: number): Promise<JobImage> {
    const digest = entry.manifestDigest;
    const canonical = formatReference(reference);
    const { updated, letGo } = await withStoreLock(this.layout, undefined, async () => {
      const current = await this.layout.readEntry(digest);
      if (!current) {
        throw new ImagePullError('IMAGE_EVICTED', `image "${image}" was removed from the image store by another process as this job took it`, 'runner_system_failure');
      }
      const held: StoreEntry = {
        ...current,
        references: current.references.includes(canonical) ? current.references : [...current.references, canonical],
        lastUsedAt: this.now().toISOString(),
      };
      await this.layout.writeEntry(held);
      return { updated: held, letGo: await markInUse(this.layout, digest) };
    });
    this.inUse.set(digest, (this.inUse.get(digest) ?? 0) + 1);
    const config = readRuntimeConfig(await readFile(this.layout.configPath(digest)));
    let released = false;
    return {
      image,
      reference: canonical,
      entry: updated,
      rootfsPath: this.layout.rootfsPath(digest),
      config,
      downloadedLayers,
      release: () => {
        if (released) return;
        released = true;
        const count = (this.inUse.get(digest) ?? 1) - 1;
        if (count <= 0) this.inUse.delete(digest);
        else this.inUse.set(digest, count);
        void letGo();
      },
    };
  }

  /** Every converted image, most recently used first. */
  async entries(): Promise<StoreEntry[]> {
    const names = await readdir(this.layout.imagesDir).catch(() => [] as string[]);
    const entries: StoreEntry[] = [];
    for (const name of names) {
      const entry = await this.layout.readEntry(`sha256:${name}`);
      if (entry) entries.push(entry);
    }
    return entries.sort((a, b) => b.lastUsedAt.localeCompare(a.lastUsedAt));
  }

  /** The entry a reference (as written or canonical) or a digest (or its unique prefix) names. */
  async find(nameOrDigest: string): Promise<StoreEntry | undefined> {
    const entries = await this.entries();
    const hex = nameOrDigest.replace(/^sha256:/, '');
    if (/^[0-9a-f]{6,64}$/.test(hex)) {
      const byDigest = entries.filter((entry) => [entry.manifestDigest, entry.imageId].some((digest) => hexOf(digest).startsWith(hex)));
      if (byDigest.length === 1) return byDigest[0];
    }
    const canonical = formatReference(parseImageReference(nameOrDigest));
    return (await this.findLocal(parseImageReference(nameOrDigest))) ?? entries.find((entry) => entry.references.includes(canonical));
  }

  /**
   * Removes one entry and the blobs no other entry needs; refused (IMAGE_IN_USE) while a job of
   * any process holds it. Blobs stay while another pull runs (no entry names its blobs yet).
   */
  async remove(entry: StoreEntry): Promise<void> {
    await withStoreLock(this.layout, undefined, async () => {
      if (this.inUse.has(entry.manifestDigest) || (await entriesInUse(this.layout)).has(entry.manifestDigest)) {
        throw new UserError('IMAGE_IN_USE', `image ${entry.manifestDigest} (${entry.references.join(', ')}) is in use by a running job; remove it once the job ends`);
      }
      await removeEntry(this.layout, entry);
      if (this.pulls.size > 0 || (await pullsInFlight(this.layout))) return;
      await removeUnreferencedBlobs(this.layout, (await this.entries()).filter((other) => other.manifestDigest !== entry.manifestDigest));
    });
  }

  /** Removes pull and auth dirs in tmp/ older than `olderThanMs` (pulls a killed process left). */
  async removeStaleTemporaries(olderThanMs = 60 * 60 * 1000): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.layout.tmpDir).catch(() => [] as string[])) {
      const path = join(this.layout.tmpDir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info || this.now().getTime() - info.mtimeMs < olderThanMs) continue;
      await rm(path, { recursive: true, force: true });
      removed += 1;
    }
    return removed;
  }

  /** Total bytes on disk (ext4 roots and blobs). */
  async sizeBytes(): Promise<number> {
    return storeSizeBytes(this.layout, await this.entries());
  }

  /** Evicts least recently used entries (never one a job of any process holds) until the store fits its limit. */
  async evict(maxSizeBytes = this.options.maxSizeBytes): Promise<StoreEntry[]> {
    // A pull in flight (here or in another process) has blobs no entry names yet: evict after it.
    if (maxSizeBytes === undefined || this.pulls.size > 0) return [];
    return withStoreLock(this.layout, undefined, async () => {
      if (await pullsInFlight(this.layout)) return [];
      const usedAnywhere = await entriesInUse(this.layout);
      const inUse = (digest: string) => this.inUse.has(digest) || usedAnywhere.has(digest);
      return evictLeastRecentlyUsed(this.layout, await this.entries(), maxSizeBytes, inUse);
    });
  }
}
