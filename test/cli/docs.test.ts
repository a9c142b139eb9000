// Shell completions and the man page come from the command definitions; each is checked with the
// real shell (bash, fish: their completion engines; zsh: its parser) and groff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildProgram } from '../../src/cli/main.js';
import { createCliContext } from '../../src/cli/context.js';
import { allCommands, describeCommand } from '../../src/cli/docs/command-tree.js';
import { createSandbox } from './harness.js';

const execFileAsync = promisify(execFile);
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

async function generated(args: string[]): Promise<string> {
  const sandbox = await createSandbox();
  try {
    const result = await sandbox.run(args);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  } finally {
    await sandbox.cleanup();
  }
}

async function withFile<T>(name: string, text: string, use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tart-docs-'));
  try {
    await writeFile(join(dir, name), text);
    return await use(join(dir, name));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const tree = describeCommand(
  buildProgram(createCliContext({ stdout: { write: () => true }, stderr: { write: () => true }, env: {} })),
);

// Whatever `tart image` has today (build, show, pull, ls ...), read from the program.
const imageSubcommands = (
  tree.subcommands.find((command) => command.path.join(' ') === 'image')?.subcommands ?? []
).map((command) => command.path.at(-1) ?? '');

test('bash completes commands, subcommands, options and option choices', async () => {
  const script = await generated(['completion', 'bash']);
  const complete = (words: string[]) =>
    withFile('tart.bash', script, async (path) => {
      const line = words.map((word) => `'${word}'`).join(' ');
      const { stdout } = await execFileAsync('bash', [
        '-c',
        `source ${path}; COMP_WORDS=(tart ${line}); COMP_CWORD=${words.length}; _tart; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ]);
      return stdout.trim().split('\n');
    });
  assert.deepEqual(await complete(['ima']), ['image']);
  assert.deepEqual(await complete(['image', '']), [
    ...imageSubcommands,
    '--config',
    '-c',
    '--log-level',
    '--log-format',
    '--help',
  ]);
  assert.deepEqual(await complete(['exec', '--executor', '']), ['shell', 'qemu', 'firecracker']);
  assert.deepEqual(await complete(['install', '--w']), ['--working-directory']);
  for (const command of allCommands(tree).filter((entry) => entry.path.length > 0))
    assert.ok(
      script.includes(`" ${command.path.join(' ')}")`),
      `bash knows "tart ${command.path.join(' ')}"`,
    );
});

test('fish completes the same', { skip: !has('fish') && 'fish is not installed' }, async () => {
  const script = await generated(['completion', 'fish']);
  await withFile('tart.fish', script, async (path) => {
    const complete = async (line: string) =>
      (await execFileAsync('fish', ['-c', `source ${path}; complete -C '${line}'`])).stdout
        .trim()
        .split('\n')
        .map((entry) => entry.split('\t')[0]);
    assert.deepEqual(await complete('tart ima'), ['image']);
    assert.deepEqual(await complete('tart image '), [...imageSubcommands].sort());
    assert.deepEqual(await complete('tart exec --executor '), ['firecracker', 'qemu', 'shell']);
    assert.deepEqual(await complete('tart exec --li'), ['--list']);
  });
});

test(
  'the zsh script parses and lists every command',
  { skip: !has('zsh') && 'zsh is not installed' },
  async () => {
    const script = await generated(['completion', 'zsh']);
    assert.match(script, /^#compdef tart\n/);
    await withFile('_tart', script, (path) => execFileAsync('zsh', ['-n', path]));
    for (const command of allCommands(tree).filter((entry) => entry.path.length > 0))
      assert.ok(
        script.includes(`'${command.path.join(' ')}')`),
        `zsh knows "tart ${command.path.join(' ')}"`,
      );
  },
);

test('an unknown shell is a usage error', async () => {
  const sandbox = await createSandbox();
  try {
    const result = await sandbox.run(['completion', 'powershell']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /value 'powershell' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish/,
    );
  } finally {
    await sandbox.cleanup();
  }
});

test('the man page documents every command and option, and groff reads it without a warning', async () => {
  const page = await generated(['man']);
  assert.match(page, /^\.TH TART 1 "\d{4}-\d{2}-\d{2}" "tart \d+\.\d+\.\d+" "User Commands"$/m);
  for (const command of allCommands(tree).filter((entry) => entry.path.length > 0)) {
    assert.ok(
      page.includes(`.SS "tart ${command.path.join(' ').replaceAll('-', '\\-')}`),
      `tart ${command.path.join(' ')}`,
    );
    for (const option of command.options)
      assert.ok(page.includes(`\\fB${option.long.replaceAll('-', '\\-')}\\fR`), option.long);
  }
  await withFile('tart.1', page, async (path) => {
    const { stderr } = await execFileAsync('groff', ['-man', '-Tutf8', '-ww', '-z', path]);
    assert.equal(stderr, '');
  });
});
