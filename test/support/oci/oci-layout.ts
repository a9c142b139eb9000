// Writes OCI image layouts for tests: deterministic gzip layers from directories, an image config,
// one manifest per platform and an index over them, tagged in index.json for `skopeo copy --all`.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PlatformImage {
  architecture: 'amd64' | 'arm64';
  /** Each entry is a directory (tarred) or an existing uncompressed tar file. */
  layers: { dir?: string; tar?: string }[];
  config: { Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; User?: string; WorkingDir?: string; ExposedPorts?: Record<string, object>; Volumes?: Record<string, object> };
}

export async function writeOciLayout(layoutDir: string, tag: string, platforms: readonly PlatformImage[], workDir: string): Promise<void> {
  const blobs = join(layoutDir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const putBlob = async (bytes: Buffer): Promise<{ digest: string; size: number }> => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const manifests = [];
  let layerNumber = 0;
  for (const platform of platforms) {
    const layers = [];
    const diffIds = [];
    for (const layer of platform.layers) {
      const tarPath = layer.tar ?? join(workDir, `layer-${layerNumber++}.tar`);
      if (layer.dir) {
        execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '-C', layer.dir, '-cf', tarPath, '.']);
      }
      const tar = await readFile(tarPath);
      diffIds.push(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
      const gz = execFileSync('gzip', ['-n', '-1', '-c', tarPath], { maxBuffer: 1 << 30 });
      layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await putBlob(gz)) });
    }
    const config = {
      architecture: platform.architecture,
      os: 'linux',
      config: platform.config,
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({ created_by: 'tart test image' })),
    };
    const configBlob = await putBlob(Buffer.from(JSON.stringify(config)));
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
      layers,
    };
    const manifestBlob = await putBlob(Buffer.from(JSON.stringify(manifest)));
    manifests.push({ mediaType: manifest.mediaType, ...manifestBlob, platform: { architecture: platform.architecture, os: 'linux' } });
  }
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
  const indexBlob = await putBlob(Buffer.from(JSON.stringify(index)));
  const top = {
    schemaVersion: 2,
    manifests: [{ mediaType: index.mediaType, ...indexBlob, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify(top));
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

/** Moves a finished build into place; a concurrent builder that won keeps its copy. */
export async function publishDir(from: string, to: string): Promise<void> {
  await rename(from, to).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  });
}
