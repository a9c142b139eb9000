// The one polling wait of the tests: checks a condition every 20 ms until it holds, and fails the
// test with what it waited for once the deadline passes.
import assert from 'node:assert/strict';

const POLL_MS = 20;

/**
 * Resolves once `condition` returns true. `what` names the wait in the failure message; a function
 * is asked only on failure, for a message that shows the state (a console log, a listing).
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what: string | (() => string | Promise<string>) = 'the condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const described = typeof what === 'string' ? what : await what();
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${described}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
