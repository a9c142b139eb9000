// The generated stage scripts also run where a container image has no bash: busybox sh (alpine,
// busybox images), fed on stdin as a container image's shell detection feeds them (no bulk-read
// prefix), and under dash when the scripts quote for POSIX sh.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildStageScript } from '../../src/shell/stage-script.js';
import { JOB_TOKEN, makeContext, makeJob, makeTempDir } from './helpers.js';

// Bash's $'…' quoting (gitlab-runner's default) runs under bash and busybox sh; POSIX quoting
// (FF_POSIXLY_CORRECT_ESCAPES, and every job in a container image) under dash too. The scripts print
// values with printf: dash's own echo reads backslashes as escapes, as it would on any runner.
const RUNS: { name: string; argv: string[]; posixQuoting: boolean }[] = [
  { name: 'busybox sh', argv: ['/bin/busybox', 'sh'], posixQuoting: false },
  { name: 'bash, POSIX-quoted', argv: ['/bin/bash'], posixQuoting: true },
  { name: 'busybox sh, POSIX-quoted', argv: ['/bin/busybox', 'sh'], posixQuoting: true },
  { name: 'dash, POSIX-quoted', argv: ['/usr/bin/dash'], posixQuoting: true },
];

describe('stage scripts under POSIX shells', () => {
  const root = makeTempDir('tart-posix-');
  after(() => root.remove());
  let counter = 0;
  for (const { name, argv, posixQuoting } of RUNS) {
    it(`step_script and after_script run under ${name}: variables, file variables, quoting, backslashes, exit status`, () => {
      const job = makeJob({
        steps: [
          {
            name: 'script',
            script: ['echo "G=$GREETING"', 'cat "$SECRET_FILE"', 'printf "%s %s\\n" "it\'s" "$QUOTED"', "printf '%s\\n' 'a\\nb' 'ünï'", 'exit 3'],
            timeout: 60,
            when: 'on_success',
            allow_failure: false,
          },
          { name: 'after_script', script: ['printf "AFTER %s\\n" "$QUOTED"'], timeout: 60, when: 'always', allow_failure: true },
        ],
        variables: [
          { key: 'CI_JOB_TOKEN', value: JOB_TOKEN, masked: true },
          { key: 'GREETING', value: 'hello world' },
          { key: 'QUOTED', value: "a 'b' \"c\" \\ end\\n\nnext line ünï" },
          { key: 'SECRET_FILE', value: 'top secret\n', file: true },
        ],
      });
      const ctx = makeContext({
        job,
        buildsDir: join(root.path, `builds-${counter++}`),
        extra: { runnerHostname: 'tart-host', posixQuoting },
      });
      mkdirSync(ctx.projectDir, { recursive: true });
      const run = (stage: 'step_script' | 'after_script') => {
        const script = buildStageScript(stage, ctx);
        assert.ok(script);
        if (posixQuoting) assert.doesNotMatch(script, /\$'/, "no bash-only $'…' string");
        return spawnSync(argv[0]!, argv.slice(1), { input: script, cwd: root.path, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
      };
      const result = run('step_script');
      assert.equal(result.stderr, '');
      assert.match(result.stdout, /\x1b\[32;1m\$ printf "%s %s\\n" "it's" "\$QUOTED"\x1b\[0;m\n/, 'the command is echoed as written');
      assert.match(result.stdout, /\$ printf '%s\\n' 'a\\nb' 'ünï'\x1b/, 'backslashes in the echoed command stay');
      assert.match(result.stdout, /\nG=hello world\n/);
      assert.match(result.stdout, /\ntop secret\n/);
      assert.match(result.stdout, /\nit's a 'b' "c" \\ end\\n\nnext line ünï\n/);
      assert.match(result.stdout, /\na\\nb\nünï\n/);
      assert.equal(result.status, 3);
      const afterScript = run('after_script');
      assert.equal(afterScript.stderr, '');
      assert.match(afterScript.stdout, /Running after script\.\.\./);
      assert.match(afterScript.stdout, /\nAFTER a 'b' "c" \\ end\\n\nnext line ünï\n/);
      assert.equal(afterScript.status, 0);
    });
  }
});
