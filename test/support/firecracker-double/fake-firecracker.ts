// TEST DOUBLE executable standing in for the `firecracker` binary (it is not Firecracker and boots
// nothing): honours `--api-sock <path>` and `--id <id>` like Firecracker v1.16, serves the strict
// API double on the socket, prints a fake serial console on stdout once "started", and exits the
// way Firecracker does (0 on guest reboot). Behaviour is chosen by FC_DOUBLE_SCENARIO; each call is
// appended as a JSON line to FC_DOUBLE_CALL_LOG when set. Run it through fakeFirecrackerBinary().
import { appendFileSync, existsSync } from 'node:fs';
import { GUEST_READY_MARKER } from '../../../src/vmm/guest-contract.js';
import { DOUBLE_SCENARIOS, startFirecrackerDouble, type DoubleScenario } from './server.js';

/** How long the "guest" runs before crashing in the crash-after-start scenario. */
const CRASH_AFTER_MS = Number(process.env.FC_DOUBLE_CRASH_AFTER_MS ?? 200);

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--version')) {
    process.stdout.write('Firecracker v1.16.1-double\n');
    return;
  }
  const apiSocketPath = flag(argv, '--api-sock') ?? '/run/firecracker.socket';
  const instanceId = flag(argv, '--id') ?? 'anonymous-instance';
  if (!/^[A-Za-z0-9-]{1,64}$/.test(instanceId)) exitWith(153, `Invalid instance ID: ${instanceId}`);
  const scenario = (process.env.FC_DOUBLE_SCENARIO ?? 'ok') as DoubleScenario;
  if (!DOUBLE_SCENARIOS.includes(scenario))
    exitWith(153, `firecracker double: unknown FC_DOUBLE_SCENARIO ${scenario}`);
  if (existsSync(apiSocketPath))
    exitWith(1, `Failed to open the API socket at ${apiSocketPath}: Address in use`);
  const callLog = process.env.FC_DOUBLE_CALL_LOG;
  process.stdout.write(
    `firecracker double: instance ${instanceId} serving ${apiSocketPath} (scenario ${scenario})\n`,
  );
  await startFirecrackerDouble({
    apiSocketPath,
    instanceId,
    scenario,
    onCall: (call) => {
      if (callLog !== undefined) appendFileSync(callLog, `${JSON.stringify(call)}\n`);
    },
    onEvent: (event) => {
      if (event.kind === 'guest-started') guestStarted(scenario);
      if (event.kind === 'ctrl-alt-del') rebootAndExit('reboot: Restarting system (Ctrl-Alt-Del)');
    },
  });
}

/** Fake serial console lines, then the crash if the scenario wants one. */
function guestStarted(scenario: DoubleScenario): void {
  process.stdout.write('[    0.000000] Linux version 6.1.0 (firecracker double: no kernel runs)\n');
  process.stdout.write(`${GUEST_READY_MARKER}\n`);
  if (scenario === 'crash-after-start') {
    setTimeout(
      () => rebootAndExit('Kernel panic - not syncing: simulated by the firecracker double'),
      CRASH_AFTER_MS,
    );
  }
}

/** reboot=k: the guest's reset ends Firecracker with code 0 (after the HTTP answer is flushed). */
function rebootAndExit(consoleLine: string): void {
  setTimeout(() => {
    process.stdout.write(`${consoleLine}\n`, () => process.exit(0));
  }, 20);
}

function flag(argv: string[], name: string): string | undefined {
  const index = argv.indexOf(name);
  if (index !== -1) return argv[index + 1];
  const inline = argv.find((arg) => arg.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

function exitWith(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

void main(process.argv.slice(2)).catch((error: unknown) =>
  exitWith(1, `firecracker double failed: ${(error as Error).message}`),
);
