// One pull into the store: resolve the reference to a linux/amd64 manifest (verifying every
// manifest digest), and, unless that manifest is already converted, copy its blobs with skopeo
// (blobs already in the store are not downloaded again) and build its read-only ext4 root.
import { access, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandRunner } from '../image/spawn.js';
import { parseManifestDocument, selectPlatform, sha256Digest, verifyDigest, type ImageManifest } from './manifest.js';
import { formatReference, withDigest, type ImageReference } from './reference.js';
import { buildRootfsImage } from './rootfs-image.js';
import { copyToLayout, inspectRawManifest, type RegistryAccess } from './skopeo.js';
import type { StoreEntry, StoreLayout } from './store-layout.js';

const PROGRESS_INTERVAL_MS = 10_000;

export interface Resolution {
  manifestDigest: string;
  repoDigest: string;
  manifest: ImageManifest;
  manifestBytes: Buffer;
}

/** Asks the registry what `reference` points at now. */
export async function resolveManifest(run: CommandRunner, reference: ImageReference, access: RegistryAccess): Promise<Resolution> {
  const name = formatReference(reference);
  const raw = await inspectRawManifest(run, name, access);
  const topDigest = sha256Digest(raw);
  if (reference.digest) verifyDigest(raw, reference.digest, name);
  const repoDigest = formatReference(withDigest(reference, topDigest));
  const document = parseManifestDocument(raw, name);
  if (document.kind === 'manifest') return { manifestDigest: topDigest, repoDigest, manifest: document.manifest, manifestBytes: raw };
  const chosen = selectPlatform(document.manifests, name);
  const pinned = formatReference(withDigest(reference, chosen.digest));
  const manifestBytes = await inspectRawManifest(run, pinned, access);
  verifyDigest(manifestBytes, chosen.digest, pinned);
  const inner = parseManifestDocument(manifestBytes, pinned);
  if (inner.kind !== 'manifest') throw new Error(`${pinned} is an index inside an index`);
  return { manifestDigest: chosen.digest, repoDigest, manifest: inner.manifest, manifestBytes };
}

/** Downloads and converts a resolved manifest; returns the entry and how many layers were fetched. */
export async function fetchIntoStore(
  run: CommandRunner,
  layout: StoreLayout,
  options: { reference: ImageReference; resolution: Resolution; access: RegistryAccess; now: () => Date; log: (line: string) => void },
): Promise<{ entry: StoreEntry; downloadedLayers: number }> {
  const { resolution } = options;
  const missingLayers = [];
  for (const layer of resolution.manifest.layers) {
    if (!(await exists(layout.blobPath(layer.digest)))) missingLayers.push(layer);
  }
  const work = await mkdtemp(join(layout.tmpDir, 'pull-'));
  try {
    const layoutDir = join(work, 'layout');
    await mkdir(layoutDir);
    await symlink(layout.blobDir, join(layoutDir, 'blobs'));
    const started = Date.now();
    const bytes = missingLayers.reduce((sum, layer) => sum + layer.size, 0);
    options.log(`Downloading ${missingLayers.length} of ${resolution.manifest.layers.length} layers (${mebibytes(bytes)} MiB)...`);
    // Long pulls say they are alive, as docker's progress does.
    const progress = setInterval(() => options.log(`Still pulling (${seconds(Date.now() - started)} s)...`), PROGRESS_INTERVAL_MS);
    try {
      await copyToLayout(run, {
        reference: formatReference(withDigest(options.reference, resolution.manifestDigest)),
        layoutDir,
        tag: 'job',
        blobDir: layout.blobDir,
        access: options.access,
      });
    } finally {
      clearInterval(progress);
    }
    const configBytes = await readFile(layout.blobPath(resolution.manifest.config.digest));
    verifyDigest(configBytes, resolution.manifest.config.digest, 'image config');
    const entryDir = join(work, 'entry');
    await mkdir(entryDir);
    const converted = Date.now();
    const { sizeBytes } = await buildRootfsImage(run, { layoutDir, tag: 'job', workDir: work, output: join(entryDir, 'rootfs.ext4'), signal: options.access.signal });
    options.log(`Image pulled in ${seconds(converted - started)} s, flattened to ext4 in ${seconds(Date.now() - converted)} s`);
    await writeFile(join(entryDir, 'config.json'), configBytes, { mode: 0o600 });
    await writeFile(join(entryDir, 'manifest.json'), resolution.manifestBytes, { mode: 0o600 });
    const now = options.now().toISOString();
    const entry: StoreEntry = {
      manifestDigest: resolution.manifestDigest,
      imageId: resolution.manifest.config.digest,
      repoDigest: resolution.repoDigest,
      references: [formatReference(options.reference)],
      layers: resolution.manifest.layers.map((layer) => layer.digest),
      rootfsBytes: sizeBytes,
      pulledAt: now,
      lastUsedAt: now,
    };
    await layout.writeEntry(entry, entryDir);
    await rename(entryDir, layout.imageDir(resolution.manifestDigest)).catch(async (error: NodeJS.ErrnoException) => {
      // Another process converted the same manifest first: keep theirs.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
    return { entry: (await layout.readEntry(resolution.manifestDigest)) ?? entry, downloadedLayers: missingLayers.length };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function mebibytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
