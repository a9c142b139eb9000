// The generated stage scripts also run where a container image has no bash: busybox sh (alpine,
// busybox images), fed on stdin as a container image's shell detection feeds them (no bulk-read
// prefix). dash is not covered: the scripts quote with bash's $'…', which dash lacks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildStageScript } from '../../src/shell/stage-script.js';
import { JOB_TOKEN, makeContext, makeJob, makeTempDir } from './helpers.js';

const SHELLS: [string, string[]][] = [['busybox sh', ['/bin/busybox', 'sh']]];

describe('stage scripts under POSIX shells', () => {
  const root = makeTempDir('tart-posix-');
  after(() => root.remove());
  let counter = 0;
  for (const [name, argv] of SHELLS) {
    it(`step_script runs under ${name}: variables, file variables, quoting, exit status`, () => {
      const job = makeJob({
        steps: [{ name: 'script', script: ['echo "G=$GREETING"', 'cat "$SECRET_FILE"', 'echo "it\'s" "$QUOTED"', 'exit 3'], timeout: 60, when: 'on_success', allow_failure: false }],
        variables: [
          { key: 'CI_JOB_TOKEN', value: JOB_TOKEN, masked: true },
          { key: 'GREETING', value: 'hello world' },
          { key: 'QUOTED', value: "a 'b' \"c\" \\ end\nnext line" },
          { key: 'SECRET_FILE', value: 'top secret\n', file: true },
        ],
      });
      const ctx = makeContext({ job, buildsDir: join(root.path, `builds-${counter++}`), extra: { runnerHostname: 'tart-host' } });
      mkdirSync(ctx.projectDir, { recursive: true });
      const script = buildStageScript('step_script', ctx);
      assert.ok(script);
      const result = spawnSync(argv[0]!, argv.slice(1), { input: script, cwd: root.path, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
      assert.equal(result.stderr, '');
      assert.match(result.stdout, /\nG=hello world\n/);
      assert.match(result.stdout, /\ntop secret\n/);
      assert.match(result.stdout, /\nit's a 'b' "c" \\ end\nnext line\n/);
      assert.equal(result.status, 3);
    });
  }
});
