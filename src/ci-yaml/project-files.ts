// The one seam through which parsing reads the project: CI files, include globs, rules:exists.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface ProjectFiles {
  /** Text of a project-relative file; undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
  /** Every file in the project, relative and '/'-separated (the .git dir excluded). */
  list(): Promise<string[]>;
}

/** ProjectFiles over a directory on disk. The listing is taken once and kept. */
export function createProjectFiles(root: string): ProjectFiles {
  let listing: Promise<string[]> | undefined;
  return {
    async read(path) {
      try {
        return await readFile(join(root, path), 'utf8');
      } catch (error) {
        if (
          (error as NodeJS.ErrnoException).code === 'ENOENT' ||
          (error as NodeJS.ErrnoException).code === 'EISDIR'
        )
          return undefined;
        throw error;
      }
    },
    list() {
      listing ??= walk(root).then((files) =>
        files.map((file) => relative(root, file).split(sep).join('/')).sort(),
      );
      return listing;
    },
  };
}

async function walk(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return entry.name === '.git' ? [] : walk(path);
      return [path];
    }),
  );
  return nested.flat();
}
