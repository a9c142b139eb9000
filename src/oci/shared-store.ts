// One ImageStore per store directory in this process, so every runner and exec slot that uses
// a directory shares its single-flight pulls and in-use counts.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from './store.js';

const stores = new Map<string, ImageStore>();

/** `$TART_IMAGE_STORE`, else /var/lib/tart/image-store as root, else ~/.local/share/tart/image-store. */
export function defaultImageStoreDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? -1): string {
  if (env.TART_IMAGE_STORE) return env.TART_IMAGE_STORE;
  if (uid === 0) return '/var/lib/tart/image-store';
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'tart', 'image-store');
}

export function sharedImageStore(options: { root?: string; maxSizeMb?: number; insecureRegistries?: readonly string[] }): ImageStore {
  const root = options.root ?? defaultImageStoreDir();
  const key = JSON.stringify([root, options.maxSizeMb, options.insecureRegistries]);
  let store = stores.get(key);
  if (!store) {
    store = new ImageStore({
      root,
      maxSizeBytes: options.maxSizeMb === undefined ? undefined : options.maxSizeMb * 1024 * 1024,
      insecureRegistries: options.insecureRegistries,
    });
    stores.set(key, store);
  }
  return store;
}
