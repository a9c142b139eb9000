import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { userCommandLines, echoNotice, echoWarning } from '../../src/shell/echo.js';
import { escapePosix, escapeShell, POSIX_QUOTING, quotePath } from '../../src/shell/escape.js';
import { wrapStageBody } from '../../src/shell/wrap.js';

describe('escapeShell', () => {
  it('matches gitlab-runner on its documented examples', () => {
    assert.equal(escapeShell('foo'), 'foo');
    assert.equal(escapeShell('x&(y)'), "$'x&(y)'");
    assert.equal(escapeShell("'$HOME'"), "$'\\'$HOME\\''");
    assert.equal(escapeShell('c:\\windows'), "$'c:\\\\windows'");
    assert.equal(escapeShell(''), "''");
  });

  it('leaves only [A-Za-z0-9,-./@_] bare', () => {
    assert.equal(escapeShell('a-Z_0.9,/@'), 'a-Z_0.9,/@');
    assert.equal(escapeShell('a b'), "$'a b'");
    assert.equal(escapeShell('a=b'), "$'a=b'");
    assert.equal(escapeShell('`id`'), "$'`id`'");
  });

  it('escapes control bytes by name and every other byte as lower-case \\xHH', () => {
    assert.equal(escapeShell('\x07\b\t\n\v\f\r'), "$'\\a\\b\\t\\n\\v\\f\\r'");
    assert.equal(escapeShell('\x1b[0;m\x7f\x01'), "$'\\x1b[0;m\\x7f\\x01'");
    assert.equal(escapeShell('é→'), "$'\\xc3\\xa9\\xe2\\x86\\x92'");
  });

  it('bash reads every byte value back unchanged, in a value of 2 MiB, quickly', () => {
    const value = Buffer.concat([
      Buffer.from(Array.from({ length: 255 }, (_, byte) => byte + 1)),
      randomBytes(2 << 20),
    ]);
    const withoutNul = Buffer.from(value.filter((byte) => byte !== 0));
    // CPU time, not wall time: a loaded CI machine stretches the wall clock, not the work.
    const started = process.cpuUsage();
    const script = `printf '%s' ${escapeShell(withoutNul)}`;
    const used = process.cpuUsage(started);
    const quotingMs = (used.user + used.system) / 1000;
    assert.deepEqual(execFileSync('bash', ['-c', 'eval "$(cat)"'], { input: script, maxBuffer: 16 << 20 }), withoutNul);
    // Byte-at-a-time string building took about 1.6 s for 2 MiB; linear quoting takes ~50 ms.
    assert.ok(quotingMs < 1000, `quoting took ${quotingMs.toFixed(0)} ms of CPU`);
  });
});

describe('quotePath', () => {
  it('double-quotes plain paths like Go %q and neutralises expansion characters', () => {
    assert.equal(quotePath('/builds/acme/widget.tmp'), '"/builds/acme/widget.tmp"');
    assert.equal(quotePath('/b/$x/`y`/"z"\\'), '"/b/\\$x/\\`y\\`/\\"z\\"\\\\"');
  });
});

describe('echo lines', () => {
  it('colours notices green and warnings yellow without a prefix', () => {
    assert.equal(echoNotice('Fetching changes...'), "echo $'\\x1b[32;1mFetching changes...\\x1b[0;m'");
    assert.equal(
      echoWarning('Updating submodules failed. Retrying...'),
      "echo $'\\x1b[0;33mUpdating submodules failed. Retrying...\\x1b[0;m'",
    );
  });

  it('echoes a single line with $ and writes it verbatim, unexpanded in the echo', () => {
    assert.deepEqual(
      userCommandLines(['  echo "$FOO"  '], { prefix: 'script_step', scriptSections: false }),
      ['echo $\'\\x1b[32;1m$ echo "$FOO"\\x1b[0;m\'', 'echo "$FOO"'],
    );
  });

  it('shows only the first line of a multi-line command, and echoes an empty line for a blank one', () => {
    assert.deepEqual(
      userCommandLines(['if true; then\n  echo x\nfi', '   '], {
        prefix: 'script_step',
        scriptSections: false,
      }),
      [
        "echo $'\\x1b[32;1m$ if true; then # collapsed multi-line command\\x1b[0;m'",
        'if true; then\n  echo x\nfi',
        'echo',
        '',
      ],
    );
  });

  it('puts a multi-line command in a collapsed section when script sections are on', () => {
    const lines = userCommandLines(['echo a\necho b'], { prefix: 'after_script_step', scriptSections: true });
    assert.equal(lines.length, 3);
    assert.equal(
      lines[0],
      `printf '%s\\n' "section_start:$(date +%s):section_after_script_step_0"$'[hide_duration=true,collapsed=true]\\r\\x1b[0K\\x1b[32;1m$ echo a\\necho b\\x1b[0;m'`,
    );
    assert.equal(
      lines[1],
      `printf '%s\\n' "section_end:$(date +%s):section_after_script_step_0"$'\\r\\x1b[0K'`,
    );
    assert.equal(lines[2], 'echo a\necho b');
  });
});

describe('wrapStageBody', () => {
  it('writes the 19.1+ frame: TERM trap, pipefail probe, eval of one ANSI-C string in a subshell', () => {
    assert.equal(
      wrapStageBody(['echo hi', "echo 'x'"], { debugTrace: false }),
      [
        '#!/usr/bin/env bash',
        '',
        "trap 'exit 1' TERM",
        '',
        'case "$(set -o)" in *"pipefail"*) set -o pipefail;; esac; set -o errexit',
        'set +o noclobber',
        "(trap 'exit 1' TERM; eval $'echo hi\\necho \\'x\\'') < /dev/null",
        'exit 0',
        '',
      ].join('\n'),
    );
  });

  it('turns on xtrace before errexit for CI_DEBUG_TRACE', () => {
    const lines = wrapStageBody(['true'], { debugTrace: true }).split('\n');
    assert.equal(lines[4], 'set -o xtrace');
    assert.match(lines[5] ?? '', /^case "\$\(set -o\)"/);
  });
});

describe('POSIX quoting (FF_POSIXLY_CORRECT_ESCAPES, jobs in container images)', () => {
  it("leaves safe words bare and single-quotes the rest, each ' as '\\''", () => {
    assert.equal(escapePosix('plain-word_1.2/x@y,z'), 'plain-word_1.2/x@y,z');
    assert.equal(escapePosix(''), "''");
    assert.equal(escapePosix("it's $HOME `x` \\n"), "'it'\\''s $HOME `x` \\n'");
    assert.equal(escapePosix('ünï\nline'), "'ünï\nline'");
  });

  it('round-trips every byte value but NUL and random text through dash, byte for byte', () => {
    const all = String.fromCharCode(...Array.from({ length: 127 }, (_, index) => index + 1)) + 'ünï €';
    for (const value of [all, randomBytes(64).toString('base64'), "'''", '\\\\\\']) {
      const out = execFileSync('/usr/bin/dash', ['-c', `printf '%s' ${escapePosix(value)}`], { encoding: 'utf8' });
      assert.equal(out, value);
    }
  });

  it('prints lines with printf, so dash keeps their backslashes', () => {
    const line = POSIX_QUOTING.printLine('a\\nb \x1b[32;1m$ c\x1b[0;m');
    assert.equal(execFileSync('/usr/bin/dash', ['-c', line], { encoding: 'utf8' }), 'a\\nb \x1b[32;1m$ c\x1b[0;m\n');
  });
});
