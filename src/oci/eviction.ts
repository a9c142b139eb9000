// LRU eviction: the store's size is its ext4 roots plus its blobs; the least recently used
// entries go first, then the blobs no remaining entry references.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hexOf, type StoreEntry, type StoreLayout } from './store-layout.js';

export async function storeSizeBytes(layout: StoreLayout, entries: readonly StoreEntry[]): Promise<number> {
  let total = entries.reduce((sum, entry) => sum + entry.rootfsBytes, 0);
  for (const name of await readdir(join(layout.blobDir, 'sha256')).catch(() => [] as string[])) {
    total += (await stat(join(layout.blobDir, 'sha256', name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export async function evictLeastRecentlyUsed(
  layout: StoreLayout,
  entriesNewestFirst: readonly StoreEntry[],
  maxSizeBytes: number,
  inUse: (manifestDigest: string) => boolean,
): Promise<StoreEntry[]> {
  const kept = [...entriesNewestFirst];
  const evicted: StoreEntry[] = [];
  let size = await storeSizeBytes(layout, kept);
  for (let index = kept.length - 1; index >= 0 && size > maxSizeBytes; index--) {
    const entry = kept[index]!;
    if (inUse(entry.manifestDigest)) continue;
    kept.splice(index, 1);
    evicted.push(entry);
    await removeEntry(layout, entry);
    await removeUnreferencedBlobs(layout, kept);
    size = await storeSizeBytes(layout, kept);
  }
  return evicted;
}

export async function removeEntry(layout: StoreLayout, entry: StoreEntry): Promise<void> {
  await rm(layout.imageDir(entry.manifestDigest), { recursive: true, force: true });
  for (const reference of entry.references) {
    const tag = await layout.readTag(reference);
    if (tag?.manifestDigest === entry.manifestDigest) await rm(layout.tagPath(reference), { force: true });
  }
}

/** Deletes blobs that no remaining entry's manifest, config or layers name. */
export async function removeUnreferencedBlobs(layout: StoreLayout, remaining: readonly StoreEntry[]): Promise<number> {
  const referenced = new Set<string>();
  for (const entry of remaining) for (const digest of [entry.manifestDigest, entry.imageId, ...entry.layers]) referenced.add(hexOf(digest));
  let removed = 0;
  for (const name of await readdir(join(layout.blobDir, 'sha256')).catch(() => [] as string[])) {
    if (referenced.has(name)) continue;
    await rm(join(layout.blobDir, 'sha256', name), { force: true });
    removed += 1;
  }
  return removed;
}
