// The helper root's /lib/modules/<release>: the container module trees (modules.ts), copied as the
// kernel package ships them (compressed: kmod's modprobe reads them so), with the index files
// depmod needs; depmod then runs inside the root at image build (rootfs.ts).
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CONTAINER_MODULE_TREES, MODULE_INDEX_FILES, moduleTreeClosure, readModuleIndex } from './modules.js';

/** Copies the modules into `<target>/<release>`; returns how many and their bytes. */
export async function stageContainerModules(options: { modulesDir: string; release: string; target: string }): Promise<{ modules: number; bytes: number }> {
  const index = await readModuleIndex(options.modulesDir);
  const paths = moduleTreeClosure(index, CONTAINER_MODULE_TREES);
  const root = join(options.target, options.release);
  let bytes = 0;
  for (const path of [...paths, ...MODULE_INDEX_FILES]) {
    const from = join(options.modulesDir, path);
    const size = await stat(from).then((info) => info.size, () => undefined);
    if (size === undefined) continue;
    await mkdir(dirname(join(root, path)), { recursive: true });
    await copyFile(from, join(root, path));
    bytes += size;
  }
  return { modules: paths.length, bytes };
}
