// Where cache archives live. LocalCacheStore keeps gitlab-runner's local layout
// `<cache_dir>/<project_full_path>/<key>/cache.zip` (+ metadata.json), publishes atomically
// (private temp file in the same dir, then rename), and, with a size bound, evicts the least
// recently used archives. "Used" is the file's atime, set explicitly on every restore; the
// mtime stays the archive's build time, which freshness checks compare against.
import { randomUUID } from 'node:crypto';
import { createWriteStream, type Dirent } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TartError } from '../errors.js';

export interface CacheRef {
  /** `project_full_path`, e.g. `group/sub/project` (the local layout). */
  project: string;
  /** `job_info.project_id` (the shared layout, as gitlab-runner names objects). */
  projectId: number;
  /** A sanitised key (see cache-key.ts); may contain `/`. */
  key: string;
}

/** What the local layout needs of a ref. */
export type LocalCacheRef = Pick<CacheRef, 'project' | 'key'>;

export interface StoredCache {
  /** A local file yauzl can open. */
  path: string;
  /** When the archive was built. */
  modifiedAt: Date;
  sizeBytes: number;
}

export interface CacheTransferOptions {
  signal?: AbortSignal;
  /** The cache helper's trace lines (a shared store says where it downloads from, uploads to). */
  log?: (line: string) => void;
}

export interface CacheStore {
  /** Where archives are also kept, for the log; undefined for a store on this host only. */
  readonly remoteUrl?: string;
  /** The archive under `ref` on this host, or undefined; does not count as a use. */
  stat(ref: CacheRef): Promise<StoredCache | undefined>;
  /**
   * The archive to restore: like stat, fetched first from a shared store, and marked as just used.
   * Throws (a TartError whose message is the trace's warning) when a shared store fails or lacks it.
   */
  use(ref: CacheRef, options?: CacheTransferOptions): Promise<StoredCache | undefined>;
  /** Stores `archive` under `ref`, replacing any previous one atomically. */
  publish(ref: CacheRef, archive: Readable, options?: CacheTransferOptions): Promise<StoredCache>;
  /** Releases connections; the store is not used afterwards. */
  close?(): void;
}

const ARCHIVE_NAME = 'cache.zip';
/** The archive file is written in writes of up to this size (several stream pieces per writev). */
const WRITE_BUFFER_SIZE = 1024 * 1024;
const METADATA_NAME = 'metadata.json';

export class LocalCacheStore implements CacheStore {
  readonly remoteUrl = undefined;
  private readonly dir: string;
  private readonly maxSizeBytes: number | undefined;

  constructor(options: { dir: string; maxSizeBytes?: number }) {
    this.dir = options.dir;
    this.maxSizeBytes = options.maxSizeBytes;
  }

  /** The archive path for `ref` (exists or not). */
  archivePath(ref: LocalCacheRef): string {
    return join(
      this.dir,
      ...safeSegments(ref.project, 'project'),
      ...safeSegments(ref.key, 'key'),
      ARCHIVE_NAME,
    );
  }

  async stat(ref: LocalCacheRef): Promise<StoredCache | undefined> {
    const path = this.archivePath(ref);
    try {
      const info = await stat(path);
      return { path, modifiedAt: info.mtime, sizeBytes: info.size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async use(ref: LocalCacheRef): Promise<StoredCache | undefined> {
    const stored = await this.stat(ref);
    if (stored === undefined) return undefined;
    // atime = last use for eviction; mtime kept as the build time.
    await utimes(stored.path, new Date(), stored.modifiedAt).catch(() => undefined);
    return stored;
  }

  /** `modifiedAt`: the archive's build time when it was built elsewhere (a download); default now. */
  async publish(
    ref: LocalCacheRef,
    archive: Readable,
    options: CacheTransferOptions & { modifiedAt?: Date } = {},
  ): Promise<StoredCache> {
    const path = this.archivePath(ref);
    const keyDir = dirname(path);
    await mkdir(keyDir, { recursive: true, mode: 0o700 });
    const temp = join(keyDir, `.${ARCHIVE_NAME}.${randomUUID()}.tmp`);
    try {
      await pipeline(
        archive,
        createWriteStream(temp, { flags: 'wx', mode: 0o600, highWaterMark: WRITE_BUFFER_SIZE }),
        {
          signal: options.signal,
        },
      );
      if (options.modifiedAt !== undefined) await utimes(temp, new Date(), options.modifiedAt);
      await writeAtomically(join(keyDir, METADATA_NAME), `${JSON.stringify({ cachekey: ref.key })}\n`);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    const stored = await this.stat(ref);
    if (stored === undefined)
      throw new TartError('CACHE_PUBLISH_FAILED', `cache archive vanished after publishing: ${path}`);
    if (this.maxSizeBytes !== undefined) await this.evict(this.maxSizeBytes, path);
    return stored;
  }

  /** Sets the archive's build time (to its shared copy's, once uploaded). */
  async setModifiedAt(ref: LocalCacheRef, modifiedAt: Date): Promise<void> {
    const stored = await this.stat(ref);
    if (stored !== undefined) await utimes(stored.path, new Date(), modifiedAt);
  }

  /** Deletes least recently used archives until the total is within `limit`; never `keep`. */
  async evict(limit: number, keep?: string): Promise<string[]> {
    const archives = await findArchives(this.dir);
    let total = archives.reduce((sum, archive) => sum + archive.size, 0);
    const evicted: string[] = [];
    for (const archive of archives.sort((a, b) => a.atimeMs - b.atimeMs)) {
      if (total <= limit) break;
      if (archive.path === keep) continue;
      await removeArchive(archive.path, this.dir);
      total -= archive.size;
      evicted.push(archive.path);
    }
    return evicted;
  }
}

// Splits a project path or key into segments that cannot leave their parent dir.
function safeSegments(value: string, what: string): string[] {
  const segments = value.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.length === 0 || segments.includes('..') || value.includes('\0')) {
    throw new TartError('CACHE_KEY_INVALID', `invalid cache ${what}: "${value}"`);
  }
  return segments;
}

async function writeAtomically(path: string, content: string): Promise<void> {
  const temp = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(temp, content, { mode: 0o600, flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

interface ArchiveFile {
  path: string;
  size: number;
  atimeMs: number;
}

async function findArchives(dir: string): Promise<ArchiveFile[]> {
  const found: ArchiveFile[] = [];
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    // Another job may remove the same dir at the same moment.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return found;
    throw error;
  }
  for (const dirent of dirents) {
    const path = join(dir, dirent.name);
    if (dirent.isDirectory()) found.push(...(await findArchives(path)));
    else if (dirent.isFile() && dirent.name === ARCHIVE_NAME) {
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined) found.push({ path, size: info.size, atimeMs: info.atimeMs });
    }
  }
  return found;
}

// Removes the archive, its metadata and the key dirs left empty (up to the store root).
async function removeArchive(path: string, root: string): Promise<void> {
  await rm(path, { force: true });
  let dir = dirname(path);
  await rm(join(dir, METADATA_NAME), { force: true });
  while (relative(root, dir) !== '' && !relative(root, dir).startsWith('..')) {
    try {
      await rmdir(dir);
    } catch {
      return; // not empty (another key lives here) or already gone
    }
    dir = dirname(dir);
  }
}
