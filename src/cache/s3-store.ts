// The shared cache over S3, as gitlab-runner's cache helpers do it: the archive is built into the
// local store first and then uploaded (unless MaxUploadedArchiveSize refuses it: then it stays
// local); a restore downloads the object into the local store (a private temp file renamed into
// place) unless the local copy is as new, then extracts the local file. Object names are
// gitlab-runner's (object-name.ts). The helper's trace lines are gitlab-runner's wording.
import { createReadStream } from 'node:fs';
import { helperLine } from '../artifacts/trace-lines.js';
import { TartError } from '../errors.js';
import { cacheObjectName } from './object-name.js';
import type { S3ObjectClient } from './s3-client.js';
import type { CacheRef, CacheStore, CacheTransferOptions, LocalCacheStore, StoredCache } from './store.js';
import type { Readable } from 'node:stream';

export interface S3CacheStoreOptions {
  local: LocalCacheStore;
  client: S3ObjectClient;
  /** `[runners.cache] Path`. */
  path?: string;
  shared: boolean;
  /** The runner's short token, the object names' `runner/<short token>` level. */
  shortToken: string;
  /** Bytes; 0 = no limit. */
  maxUploadedArchiveSize: number;
}

const ARCHIVE_NAME = 'cache.zip';

export class S3CacheStore implements CacheStore {
  readonly remoteUrl: string;
  private readonly options: S3CacheStoreOptions;

  constructor(options: S3CacheStoreOptions) {
    this.options = options;
    this.remoteUrl = options.client.objectUrl('');
  }

  /** The object name of `ref` in the bucket. */
  objectName(ref: CacheRef): string {
    return cacheObjectName({
      path: this.options.path,
      shared: this.options.shared,
      shortToken: this.options.shortToken,
      projectId: ref.projectId,
      key: ref.key,
    });
  }

  /** The local copy: what the archive stage compares the files against (as gitlab-runner). */
  stat(ref: CacheRef): Promise<StoredCache | undefined> {
    return this.options.local.stat(ref);
  }

  async use(ref: CacheRef, options: CacheTransferOptions = {}): Promise<StoredCache | undefined> {
    const log = options.log ?? (() => undefined);
    const name = this.objectName(ref);
    const object = await this.options.client.get(name, options.signal);
    // gitlab-runner's cache-extractor fails on a 404 even when a local copy exists.
    if (object === undefined) throw new TartError('CACHE_S3_OBJECT_MISSING', 'file does not exist');
    const local = await this.options.local.stat(ref);
    if (local !== undefined && object.lastModified !== undefined && object.lastModified <= local.modifiedAt) {
      object.body.destroy();
      log(helperLine('info', `${ARCHIVE_NAME} is up to date`));
      return this.options.local.use(ref);
    }
    const fields: Record<string, string> = object.etag ? { ETag: object.etag } : {};
    log(helperLine('info', `Downloading cache from ${this.options.client.objectUrl(name)}`, fields));
    await this.options.local.publish(ref, object.body, {
      signal: options.signal,
      modifiedAt: object.lastModified,
    });
    return this.options.local.use(ref);
  }

  async publish(ref: CacheRef, archive: Readable, options: CacheTransferOptions = {}): Promise<StoredCache> {
    const log = options.log ?? (() => undefined);
    const name = this.objectName(ref);
    const stored = await this.options.local.publish(ref, archive, { signal: options.signal });
    const limit = this.options.maxUploadedArchiveSize;
    if (limit > 0 && stored.sizeBytes > limit) {
      log(
        helperLine(
          'info',
          `Cache archive size (${stored.sizeBytes}) is too big (Limit is set to ${limit}). Cache will be stored only locally.`,
        ),
      );
      return stored;
    }
    log(helperLine('info', `Uploading ${ARCHIVE_NAME} to ${this.options.client.objectUrl(name)}`));
    await this.options.client.put(name, createReadStream(stored.path), stored.sizeBytes, options.signal);
    // The local copy takes the object's time, so the next restore on this host needs no download.
    const uploadedAt = await this.options.client.lastModified(name, options.signal);
    if (uploadedAt === undefined) return stored;
    await this.options.local.setModifiedAt(ref, uploadedAt);
    return { ...stored, modifiedAt: uploadedAt };
  }

  close(): void {
    this.options.client.close();
  }
}
