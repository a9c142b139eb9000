// Starts FirecrackerVmm against the fake `firecracker` executable (a TEST DOUBLE, not Firecracker):
// a temp VM fixture, the wrapper binary, a call log, spec checks on every request, and a record of
// every child process spawned so tests can prove none is left.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { TartError } from '../../../src/errors.js';
import { spawnVmm } from '../../../src/vmm/spawn.js';
import { FirecrackerVmm, type FirecrackerVmmOptions } from '../../../src/vmm/firecracker/firecracker-vmm.js';
import { fakeFirecrackerBinary } from '../../support/firecracker-double/binary.js';
import type { DoubleScenario, RecordedCall } from '../../support/firecracker-double/server.js';
import { specValidator } from '../../support/firecracker-double/spec-path.js';
import { makeVmFixture, type VmFixture } from './fixtures.js';

export interface DoubleHarness {
  fixture: VmFixture;
  vmm: FirecrackerVmm;
  children: ChildProcess[];
  callLog: string;
  calls(): Promise<RecordedCall[]>;
  cleanup(): Promise<void>;
}

/** Generous: the double is node + tsx, and CI hosts here run at a load of 10+ on 2 CPUs. */
export const DOUBLE_READY_TIMEOUT_MS = 30_000;

export async function doubleHarness(
  scenario: DoubleScenario,
  options: FirecrackerVmmOptions = {},
): Promise<DoubleHarness> {
  const fixture = await makeVmFixture();
  const binary = await fakeFirecrackerBinary(fixture.dir);
  const callLog = join(fixture.dir, 'calls.jsonl');
  const children: ChildProcess[] = [];
  const vmm = new FirecrackerVmm({
    binary,
    env: {
      ...process.env,
      FIRECRACKER_BIN: '',
      FC_DOUBLE_SCENARIO: scenario,
      FC_DOUBLE_CALL_LOG: callLog,
      FC_DOUBLE_CRASH_AFTER_MS: '300',
    },
    apiReadyTimeoutMs: DOUBLE_READY_TIMEOUT_MS,
    requestTimeoutMs: 10_000,
    requestCheck: (request) => {
      const check = specValidator().check(request);
      if (!check.ok)
        throw new TartError(
          'TEST_SPEC_VIOLATION',
          `${request.method} ${request.path}: ${check.problems.join('; ')}`,
        );
    },
    spawn: (command, args, spawnOptions) => {
      const child = spawnVmm(command, args, spawnOptions);
      children.push(child);
      return child;
    },
    ...options,
  });
  return {
    fixture,
    vmm,
    children,
    callLog,
    calls: async () =>
      (await readFile(callLog, 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as RecordedCall),
    cleanup: async () => {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await fixture.cleanup();
    },
  };
}

/** True while a process with this pid exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
