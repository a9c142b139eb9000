// `tart image build [--output DIR] [--force]` and `tart image show [--output DIR]`; the container-image
// store's pull, ls, rm and prune are in image-store.ts.
import type { Command } from 'commander';
import { buildImage } from '../../image/build.js';
import { CURRENT_LINK, defaultImageRoot, readImageManifest } from '../../image/layout.js';
import { join } from 'node:path';
import { contextOf } from '../context.js';
import { requireRoot } from '../require-root.js';
import { registerImageStoreCommands } from './image-store.js';

export function registerImageCommand(program: Command): void {
  const image = program
    .command('image')
    .description('build and inspect the guest image (kernel, initrd, rootfs); pull and manage job container images');
  registerImageStoreCommands(image);

  image
    .command('build')
    .description('build the guest image unless an image for the same inputs exists')
    .option(
      '--output <dir>',
      'image root directory (default: $TART_IMAGE_DIR or the per-user/system default)',
    )
    .option('--force', 'rebuild even when the image is up to date', false)
    .action(async (options: { output?: string; force: boolean }, command: Command) => {
      requireRoot(
        contextOf(command),
        'image build',
        'mmdebstrap builds the root filesystem in root mode, apt fetches the kernel',
      );
      const controller = new AbortController();
      const abort = (): void => controller.abort();
      process.once('SIGINT', abort);
      process.once('SIGTERM', abort);
      try {
        const result = await buildImage({
          outputRoot: options.output ?? defaultImageRoot(),
          force: options.force,
          log: (line) => process.stdout.write(`${line}\n`),
          signal: controller.signal,
        });
        process.stdout.write(`${result.dir}\n`);
      } finally {
        process.off('SIGINT', abort);
        process.off('SIGTERM', abort);
      }
    });

  image
    .command('show')
    .description('print the manifest of the current image (or of --version)')
    .option('--output <dir>', 'image root directory')
    .option('--version <version>', 'an image version instead of "current"')
    .action(async (options: { output?: string; version?: string }) => {
      const root = options.output ?? defaultImageRoot();
      const manifest = await readImageManifest(join(root, options.version ?? CURRENT_LINK));
      process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
    });
}
