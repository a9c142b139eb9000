// Masking throughput: a CI-log-like text pushed in 64 KiB writes through the job masker, for 1, 20
// and 100 secrets, the new single-pass masker against the chain it replaced
// (test/support/legacy-masking.ts), next to a plain Buffer copy (the floor). Figures are MiB per CPU
// second of this process (wall time on a shared machine measures the neighbours); rounds interleave
// the contestants so noise hits them alike.
//   npx tsx bench/masking.ts [--mb 256] [--rounds 3] [--values 1,20,100]
import { randomBytes } from 'node:crypto';
import { PassThrough, type Transform } from 'node:stream';
import { createSecretMasker } from '../src/masking/secret-masker.js';
import * as legacy from '../test/support/legacy-masking.js';
import { formatSpread, option, spread } from './support/figures.js';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const megabytes = Number(option('--mb', '256'));
const rounds = Number(option('--rounds', '3'));
const valueCounts = option('--values', '1,20,100').split(',').map(Number);

const LINES = [
  '\x1b[0KRunning with gitlab-runner 17.4.0 (b92ee590) on tart-runner abc123',
  '$ npm ci --no-audit --prefer-offline',
  'added 1423 packages, and audited 1424 packages in 14s',
  'npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.',
  '  CC       src/lib/parser.o',
  '  LD       build/bin/tool',
  'Downloading https://registry.example.com/api/v4/projects/42/packages/generic/tool/1.2.3/tool.tar.gz',
  'ok 17 - test/unit/parser.test.ts > handles nested brackets (3.2ms)',
  '[2026-12-03T17:04:11.283Z] INFO  server listening on http://127.0.0.1:8080/?page=2&sort=desc',
  "Cloning into '/builds/group/project'...",
  'remote: Enumerating objects: 1234, done.',
  'Uploading artifacts for successful job\x1b[0;m',
  '   Compiling serde_json v1.0.128',
  'section_end:1733245451:step_script\r\x1b[0K',
];

function logText(bytes: number, secrets: string[]): Buffer {
  const parts: string[] = [];
  let size = 0;
  for (let line = 0; size < bytes; line++) {
    let text = LINES[line % LINES.length] ?? '';
    if (line % 997 === 0 && secrets.length > 0) text += ` token=${secrets[line % secrets.length]}`;
    parts.push(text, '\n');
    size += text.length + 1;
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, bytes);
}

function secretsOf(count: number): string[] {
  return Array.from({ length: count }, (_, index) =>
    randomBytes(12 + (index % 20))
      .toString('base64url')
      .replace(/^-*/, 'k'),
  );
}

async function throughput(make: () => Transform | undefined, data: Buffer): Promise<number> {
  const started = process.cpuUsage();
  const masker = make();
  if (masker === undefined) {
    for (let offset = 0; offset < data.length; offset += CHUNK)
      Buffer.from(data.subarray(offset, offset + CHUNK));
  } else {
    let out = 0;
    masker.on('data', (chunk: Buffer) => (out += chunk.length));
    const done = new Promise((resolve) => masker.on('end', resolve));
    for (let offset = 0; offset < data.length; offset += CHUNK)
      masker.write(data.subarray(offset, offset + CHUNK));
    masker.end();
    await done;
  }
  const { user, system } = process.cpuUsage(started);
  const seconds = (user + system) / 1e6;
  return data.length / MiB / seconds;
}

console.log(
  `masking benchmark: node ${process.version}, ${megabytes} MiB CI-log text in ${CHUNK / 1024} KiB writes, ${rounds} rounds (MiB per CPU second, min/median/max: the machine is shared)`,
);
for (const count of valueCounts) {
  const values = secretsOf(count);
  const data = logText(megabytes * MiB, values);
  const contestants: Record<string, () => Transform | undefined> = {
    'Buffer copy (floor)': () => undefined,
    'stream pass-through': () => new PassThrough(),
    'legacy chain': () => legacy.createSecretMasker({ values }),
    'single pass': () => createSecretMasker({ values }),
  };
  const figures: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++)
    for (const [name, make] of Object.entries(contestants))
      (figures[name] ??= []).push(await throughput(make, data));
  const medianOf = (name: string): number => spread(figures[name] ?? []).median;
  console.log(`${count} masked value(s):`);
  for (const name of Object.keys(contestants))
    console.log(`  ${name.padEnd(20)} ${formatSpread(figures[name] ?? [])}`);
  console.log(`  single pass / legacy: ${(medianOf('single pass') / medianOf('legacy chain')).toFixed(2)}x`);
}
