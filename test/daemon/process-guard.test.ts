import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { guardProcess } from '../../src/daemon/process-guard.js';
import { createLogger } from '../../src/log/logger.js';

describe('guardProcess', () => {
  it('logs an uncaught exception and an unhandled rejection with their stacks, and can be removed', () => {
    let text = '';
    const logger = createLogger({ level: 'debug', format: 'json', stream: { write: (chunk: string) => (text += chunk) } });
    const target = new EventEmitter();
    const remove = guardProcess({ logger, target });
    target.emit('uncaughtException', new Error('stream sink exploded'));
    target.emit('unhandledRejection', 'a bare reason');
    const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, string>);
    assert.equal(lines.length, 2);
    assert.equal(lines[0]?.level, 'error');
    assert.match(lines[0]?.msg ?? '', /^BUG: uncaught exception/);
    assert.match(lines[0]?.stack ?? '', /stream sink exploded\n\s+at /);
    assert.match(lines[1]?.msg ?? '', /^BUG: unhandled promise rejection/);
    assert.equal(lines[1]?.stack, 'a bare reason');
    remove();
    assert.equal(target.listenerCount('uncaughtException') + target.listenerCount('unhandledRejection'), 0);
  });
});
