// The image store on disk, one entry per platform manifest:
//   blobs/sha256/<hex>                 skopeo's shared blob dir (layers, configs, manifests)
//   images/<manifest hex>/rootfs.ext4  the flattened read-only root
//   images/<manifest hex>/config.json  the image config; entry.json what the store knows of it
//   tags/<sha256 of reference>.json    the last resolution of a tag (reference -> manifest)
//   tmp/                               pulls in progress (renamed into images/ when complete)
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';

export interface StoreEntry {
  manifestDigest: string;
  /** `sha256:…` of the config blob: Docker's image ID. */
  imageId: string;
  /** `registry/repo@sha256:…` of what the tag pointed at (index digest for multi-arch images). */
  repoDigest: string;
  /** Canonical references that resolved to this entry. */
  references: string[];
  layers: string[];
  rootfsBytes: number;
  pulledAt: string;
  lastUsedAt: string;
}

export interface TagRecord {
  reference: string;
  manifestDigest: string;
  repoDigest: string;
  resolvedAt: string;
}

export class StoreLayout {
  constructor(readonly root: string) {}

  get blobDir(): string {
    return join(this.root, 'blobs');
  }
  get imagesDir(): string {
    return join(this.root, 'images');
  }
  get tmpDir(): string {
    return join(this.root, 'tmp');
  }
  imageDir(manifestDigest: string): string {
    return join(this.imagesDir, hexOf(manifestDigest));
  }
  rootfsPath(manifestDigest: string): string {
    return join(this.imageDir(manifestDigest), 'rootfs.ext4');
  }
  configPath(manifestDigest: string): string {
    return join(this.imageDir(manifestDigest), 'config.json');
  }
  blobPath(digest: string): string {
    return join(this.blobDir, 'sha256', hexOf(digest));
  }
  tagPath(reference: string): string {
    return join(this.root, 'tags', `${createHash('sha256').update(reference).digest('hex')}.json`);
  }

  async ensure(): Promise<void> {
    for (const dir of [join(this.blobDir, 'sha256'), this.imagesDir, this.tmpDir, join(this.root, 'tags')]) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    }
  }

  async readEntry(manifestDigest: string): Promise<StoreEntry | undefined> {
    return readJson<StoreEntry>(join(this.imageDir(manifestDigest), 'entry.json'));
  }

  async writeEntry(entry: StoreEntry, dir = this.imageDir(entry.manifestDigest)): Promise<void> {
    await writeJsonAtomically(join(dir, 'entry.json'), entry);
  }

  async readTag(reference: string): Promise<TagRecord | undefined> {
    return readJson<TagRecord>(this.tagPath(reference));
  }

  async writeTag(record: TagRecord): Promise<void> {
    await writeJsonAtomically(this.tagPath(record.reference), record);
  }
}

export function hexOf(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}
