// Trace throughput and memory: job output → (masker) → TraceBuffer → TraceSender → a loopback
// GitLab implementing PATCH /jobs/:id/trace. Each scenario runs in its own process so peak RSS
// (process.resourceUsage().maxRSS) belongs to that scenario alone.
// --writer routes the output through the job's TraceWriter (masking, then FF_TIMESTAMPS headers
// with --timestamps) as a stage's stdout, the path a job's output takes.
//   npx tsx bench/trace.ts [--default-mb 1024] [--large-mb 64] [--mask N] [--writer [--timestamps]]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { DEFAULT_OUTPUT_LIMIT_BYTES, TraceBuffer } from '../src/gitlab/trace-buffer.js';
import { TraceSender } from '../src/gitlab/trace-sender.js';
import { createSecretMasker, maskText } from '../src/masking/secret-masker.js';
import { TraceWriter } from '../src/job/trace-writer.js';
import { startTraceServer } from '../test/gitlab/helpers/trace-server.js';

const MiB = 1024 * 1024;
const here = dirname(fileURLToPath(import.meta.url));

interface Scenario {
  name: string;
  megabytes: number;
  limitBytes: number;
  maskSecrets: number;
  /** Through TraceWriter.openStageOutput (false: straight into the buffer). */
  writer: boolean;
  timestamps: boolean;
}

interface Figures {
  name: string;
  writtenMiB: number;
  keptBytes: number;
  serverBytes: number;
  checksumMatches: boolean;
  seconds: number;
  /** CPU seconds of the process (writer, sender and the loopback GitLab alike). */
  cpuSeconds: number;
  throughputMiBs: number;
  peakRssMiB: number;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const index = args.indexOf(name);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};

if (args[0] === '--run') {
  const scenario = JSON.parse(args[1] ?? '{}') as Scenario;
  console.log(JSON.stringify(await runScenario(scenario)));
} else {
  const maskSecrets = option('--mask', 0);
  const writer = args.includes('--writer') || args.includes('--timestamps');
  const timestamps = args.includes('--timestamps');
  const scenarios: Scenario[] = [
    {
      name: 'default output limit (4 MiB)',
      megabytes: option('--default-mb', 1024),
      limitBytes: DEFAULT_OUTPUT_LIMIT_BYTES,
      maskSecrets,
      writer,
      timestamps,
    },
    {
      name: 'large output limit (1 GiB)',
      megabytes: option('--large-mb', 64),
      limitBytes: 1024 * MiB,
      maskSecrets,
      writer,
      timestamps,
    },
  ];
  console.log(
    `trace benchmark: node ${process.version}, masking ${maskSecrets > 0 ? `${maskSecrets} secrets` : 'off'}, ` +
      (writer
        ? `through the TraceWriter, timestamps ${timestamps ? 'on' : 'off'}`
        : 'straight into the buffer'),
  );
  for (const scenario of scenarios) {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(here, 'trace.ts'), '--run', JSON.stringify(scenario)],
      { encoding: 'utf8' },
    );
    if (child.status !== 0) {
      console.error(child.stderr);
      process.exit(1);
    }
    const figures = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as Figures;
    console.log(
      `${figures.name}: wrote ${figures.writtenMiB} MiB in ${figures.seconds.toFixed(2)} s = ${figures.throughputMiBs.toFixed(1)} MiB/s ` +
        `(${figures.cpuSeconds.toFixed(2)} CPU s); ` +
        `kept ${figures.keptBytes} bytes, server has ${figures.serverBytes} bytes, checksum ${figures.checksumMatches ? 'matches' : 'DIFFERS'}; ` +
        `peak RSS ${figures.peakRssMiB.toFixed(1)} MiB`,
    );
  }
}

async function runScenario(scenario: Scenario): Promise<Figures> {
  const jobId = 1;
  const jobToken = 'bench-job-token';
  const gitlab = await startTraceServer({ jobId, jobToken, countOnly: true });
  const buffer = await TraceBuffer.create({ limitBytes: scenario.limitBytes });
  const sender = new TraceSender({ url: gitlab.url, jobId, jobToken, buffer });
  try {
    const started = process.hrtime.bigint();
    const cpuStarted = process.cpuUsage();
    sender.start();
    const output = jobOutput(scenario.megabytes * MiB);
    if (scenario.writer) {
      await throughTraceWriter(output, buffer, scenario);
    } else {
      const masker = scenario.maskSecrets > 0 ? secretMasker(scenario.maskSecrets) : undefined;
      await (masker ? pipeline(output, masker, buffer) : pipeline(output, buffer));
    }
    const { complete } = await sender.finish();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuStarted);
    if (!complete) throw new Error('trace was not fully sent');
    return {
      name: scenario.name,
      writtenMiB: scenario.megabytes,
      keptBytes: buffer.size,
      serverBytes: gitlab.size(),
      checksumMatches: `crc32:${gitlab.crc().toString(16).padStart(8, '0')}` === buffer.checksum,
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      throughputMiBs: scenario.megabytes / seconds,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await sender.stop();
    await buffer.close();
    await gitlab.close();
  }
}

// Printable lines like a build log, 64 KiB at a time, generated lazily.
function jobOutput(totalBytes: number): Readable {
  const block = Buffer.from(
    Array.from(
      { length: 1024 },
      (_, line) =>
        `[${String(line).padStart(4, '0')}] compiling module ${randomBytes(18).toString('base64')} ok\n`,
    )
      .join('')
      .slice(0, 64 * 1024),
  );
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < totalBytes; sent += block.length)
        yield sent + block.length <= totalBytes ? block : block.subarray(0, totalBytes - sent);
    })(),
  );
}

// The job's own path: a stage's stdout into the TraceWriter (masker, timestamper, write queue).
async function throughTraceWriter(output: Readable, buffer: TraceBuffer, scenario: Scenario): Promise<void> {
  const values = Array.from({ length: scenario.maskSecrets }, () => randomBytes(12).toString('base64url'));
  const prefixes = ['glpat-', 'glcbt-'];
  const trace = new TraceWriter({
    sink: buffer,
    masking: {
      createStreamMasker: () => createSecretMasker({ values, prefixes }),
      maskText: (text) => maskText(text, values, prefixes),
    },
    traceSections: true,
    timestamps: scenario.timestamps,
  });
  const stage = trace.openStageOutput();
  await pipeline(output, stage.stdout);
  await stage.close();
  await trace.finish();
  buffer.end();
}

// A masker for `count` random secrets and two token prefixes.
function secretMasker(count: number): Transform {
  const values = Array.from({ length: count }, () => randomBytes(12).toString('base64url'));
  return createSecretMasker({ values, prefixes: ['glpat-', 'glcbt-'] });
}
