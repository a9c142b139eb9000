// src/process is the one seam for child processes: it is the only importer of node:child_process,
// and replacing `processSeam.spawn` in one place sees the spawns of every area's runner.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { createGitRunner } from '../../src/exec/git.js';
import { spawnCommand } from '../../src/image/spawn.js';
import { spawnNetCommand } from '../../src/net/net-command.js';
import { runCollect } from '../../src/process/run.js';
import { processSeam, type Spawner } from '../../src/process/spawn.js';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('the process seam', () => {
  const realSpawn = processSeam.spawn;
  afterEach(() => {
    processSeam.spawn = realSpawn;
  });

  it('is the only importer of node:child_process in src/', () => {
    const importers = sourceFiles(SRC)
      .filter((file) => readFileSync(file, 'utf8').includes('node:child_process'))
      .map((file) => relative(SRC, file));
    assert.deepEqual(importers, ['process/spawn.ts']);
  });

  it('sees the spawns of git, image and net runners when replaced in one place', async () => {
    const seen: string[] = [];
    const recording: Spawner = (command, args, options) => {
      seen.push([command, ...args].join(' '));
      return realSpawn(command, args, options);
    };
    processSeam.spawn = recording;
    await createGitRunner().run({ args: ['--version'], cwd: SRC });
    await spawnCommand({ command: 'true', args: [] });
    await spawnNetCommand({ argv: ['sh', '-c', 'exit 3'] });
    assert.deepEqual(seen, ['git --version', 'true', 'sh -c exit 3']);
  });

  it('collects output and reports the exit status, and rejects only when nothing could start', async () => {
    const result = await runCollect({ command: 'sh', args: ['-c', 'echo out; echo err >&2; exit 4'] });
    assert.equal(result.exitCode, 4);
    assert.equal(result.stdout.toString(), 'out\n');
    assert.equal(result.stderr.toString(), 'err\n');
    await assert.rejects(runCollect({ command: '/nonexistent/tool', args: [] }), { code: 'ENOENT' });
  });
});
