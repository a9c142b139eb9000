// shellJoin must survive the remote shell: any argv, joined and run through `sh -c`, arrives
// unchanged (property-based, with real /bin/sh).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { shellJoin, shellQuote } from '../../src/guest/quote.js';

const run = promisify(execFile);

// Prints each argument NUL-terminated, so the test sees exactly what the shell passed.
async function argvAfterShell(argv: string[]): Promise<string[]> {
  const { stdout } = await run('sh', ['-c', `printf '%s\\0' ${shellJoin(argv)}`], { encoding: 'utf8' });
  return stdout.split('\0').slice(0, -1);
}

describe('shell quoting for the guest command line', () => {
  it('leaves plain words bare and single-quotes everything else', () => {
    assert.equal(shellQuote('abc/DEF-1.2_x=y:z,@%+'), 'abc/DEF-1.2_x=y:z,@%+');
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote('$HOME'), `'$HOME'`);
  });

  it('round-trips awkward arguments through sh -c', async () => {
    const argv = [
      '',
      ' ',
      "'",
      '"',
      '\\',
      '$(id)',
      '`id`',
      '$HOME',
      '*',
      'a\nb',
      '-n',
      ';',
      '|',
      '&&',
      '~',
      '#',
      'é ✓',
      "''\\''",
    ];
    assert.deepEqual(await argvAfterShell(argv), argv);
  });

  it('round-trips arbitrary argv through sh -c (property)', async () => {
    // NUL cannot be in an argument at all; everything else can.
    const argument = fc.string({ unit: 'binary', maxLength: 24 }).map((text) => text.replaceAll('\0', ''));
    await fc.assert(
      fc.asyncProperty(fc.array(argument, { minLength: 1, maxLength: 6 }), async (argv) => {
        assert.deepEqual(await argvAfterShell(argv), argv);
      }),
      { numRuns: 150 },
    );
  });
});
