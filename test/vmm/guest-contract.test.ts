// The boot command's report on the serial console (src/vmm/guest-contract.ts): read back from the
// console text the guest's init writes, with kernel lines between, and absent from an older init.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BOOT_COMMAND_CONSOLE, GUEST_READY_MARKER, readBootCommandResult } from '../../src/vmm/guest-contract.js';

const { output, exit } = BOOT_COMMAND_CONSOLE;

test("reads the boot command's output lines and exit status, skipping kernel lines between them", () => {
  const console = [
    'tart-guest: init started at 3.9 s',
    `${output}mount: mounting /dev/vdd on /run/tart-image/disk failed: Invalid argument`,
    '[    4.2] overlayfs: upper fs does not support tmpfile.',
    `${output}second line`,
    'tart-guest: boot command done at 4.3 s',
    `${exit}255`,
    GUEST_READY_MARKER,
  ].join('\r\n');
  assert.deepEqual(readBootCommandResult(console), {
    exitCode: 255,
    output: 'mount: mounting /dev/vdd on /run/tart-image/disk failed: Invalid argument\nsecond line',
  });
});

test('an empty output and a success read as such', () => {
  assert.deepEqual(readBootCommandResult(`${output}\n${exit}0\n${GUEST_READY_MARKER}\n`), { exitCode: 0, output: '' });
});

test('no report (an init that predates boot commands) or a garbled status reads as none', () => {
  assert.equal(readBootCommandResult(`tart-guest: sshd listening\n${GUEST_READY_MARKER}\n`), undefined);
  assert.equal(readBootCommandResult(`${exit}x\n`), undefined);
});
