// `tart image pull|ls|rm|prune`: the container-image store jobs' `image:` uses (src/oci), for
// operators. Credentials come as for jobs: $DOCKER_AUTH_CONFIG, then ~/.docker/config.json.
import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { contextOf } from '../context.js';
import { isPullPolicy, type PullPolicy } from '../../oci/pull-policy.js';
import { findRegistryCredentials } from '../../oci/registry-auth.js';
import { defaultImageStoreDir, sharedImageStore } from '../../oci/shared-store.js';
import type { StoreEntry } from '../../oci/store-layout.js';

interface StoreOptions {
  store?: string;
  insecureRegistry: string[];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerImageStoreCommands(image: Command): void {
  const withStore = (command: Command): Command =>
    command
      .option('--store <dir>', `image store directory (default: ${defaultImageStoreDir()})`)
      .option('--insecure-registry <host>', 'a registry reached over plain HTTP (repeatable)', collect, []);

  withStore(image.command('pull <image>').description('pull a container image into the image store'))
    .option('--pull-policy <policy>', 'always | if-not-present | never', 'always')
    .action(async (name: string, options: StoreOptions & { pullPolicy: string }, command: Command) => {
      const { stdout, stderr, env } = contextOf(command);
      if (!isPullPolicy(options.pullPolicy)) throw new UserError('IMAGE_PULL_POLICY_INVALID', `unsupported pull policy "${options.pullPolicy}"`);
      const store = storeOf(options);
      const { credentials, warnings } = await findRegistryCredentials(name, { dockerAuthConfig: env.DOCKER_AUTH_CONFIG, home: env.HOME });
      for (const warning of warnings) stderr.write(`WARNING: ${warning}\n`);
      if (credentials) stdout.write(`Authenticating with credentials from ${credentials.source}\n`);
      const pulled = await store.acquire({
        image: name,
        policies: [options.pullPolicy as PullPolicy],
        credentials,
        log: (line) => stdout.write(`${line}\n`),
      });
      pulled.release();
      stdout.write(`${pulled.entry.imageId} ${pulled.entry.repoDigest} (${pulled.downloadedLayers} layers downloaded)\n`);
    });

  withStore(image.command('ls').description('list the images in the image store, most recently used first')).action(async (options: StoreOptions, command: Command) => {
    const { stdout } = contextOf(command);
    const store = storeOf(options);
    const entries = await store.entries();
    const rows = [['REFERENCE', 'IMAGE ID', 'MANIFEST', 'SIZE', 'LAST USED'], ...entries.map(row)];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
    for (const cells of rows) stdout.write(`${cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}\n`);
    stdout.write(`total ${mebibytes(await store.sizeBytes())} on disk\n`);
  });

  withStore(image.command('rm <image...>').description('remove images (by reference or digest prefix) from the image store')).action(
    async (names: string[], options: StoreOptions, command: Command) => {
      const { stdout } = contextOf(command);
      const store = storeOf(options);
      for (const name of names) {
        const entry = await store.find(name);
        if (!entry) throw new UserError('IMAGE_NOT_IN_STORE', `no image "${name}" in the image store`);
        await store.remove(entry);
        stdout.write(`removed ${entry.manifestDigest} (${entry.references.join(', ')})\n`);
      }
    },
  );

  withStore(image.command('prune').description('evict least recently used images down to a size (default: all) and drop unused blobs'))
    .option('--max-size-mb <mb>', 'keep the store under this size', '0')
    .action(async (options: StoreOptions & { maxSizeMb: string }, command: Command) => {
      const { stdout } = contextOf(command);
      const limit = Number(options.maxSizeMb);
      if (!Number.isInteger(limit) || limit < 0) throw new UserError('IMAGE_PRUNE_SIZE_INVALID', `--max-size-mb must be a whole number, got "${options.maxSizeMb}"`);
      const store = storeOf(options);
      const stale = await store.removeStaleTemporaries();
      if (stale > 0) stdout.write(`removed ${stale} unfinished pull(s) older than an hour\n`);
      const evicted = await store.evict(limit * 1024 * 1024);
      for (const entry of evicted) stdout.write(`evicted ${entry.manifestDigest} (${entry.references.join(', ')})\n`);
      stdout.write(`${evicted.length} evicted, ${mebibytes(await store.sizeBytes())} left\n`);
    });
}

function storeOf(options: StoreOptions) {
  return sharedImageStore({ root: options.store, insecureRegistries: options.insecureRegistry });
}

function row(entry: StoreEntry): string[] {
  return [entry.references.join(','), entry.imageId.slice(7, 19), entry.manifestDigest.slice(7, 19), mebibytes(entry.rootfsBytes), entry.lastUsedAt];
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
