// One guest command whose stdout and stderr are wanted together as text (setup steps, readiness
// checks, log tails), not streamed anywhere.
import { Writable } from 'node:stream';
import type { GuestChannel } from '../../guest/channel.js';

export async function execCollecting(
  channel: GuestChannel,
  options: { command: string[]; stdin?: string; signal?: AbortSignal },
): Promise<{ exitCode: number; output: string }> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const { exitCode } = await channel.exec({ ...options, stdout: sink, stderr: sink });
  return { exitCode, output: Buffer.concat(chunks).toString('utf8') };
}
