// What a person sees: each job's trace as `[job] line`, colours only on a TTY, and the summary
// table. Output goes through the WriteStreams seam so tests read exactly what a user reads.
import type { Writable } from 'node:stream';
import { lineWriter } from '../executor/line-writer.js';
import { stripAnsi, TERMINAL } from '../model/ansi.js';

export interface WriteStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Colours and the live layout are used only on a terminal. */
  isTTY: boolean;
}

export type JobStatus = 'success' | 'failed' | 'allowed-failure' | 'skipped' | 'manual';

export interface JobSummary {
  name: string;
  stage: string;
  status: JobStatus;
  durationMs?: number;
  attempts?: number;
}

const JOB_COLOURS = [
  TERMINAL.cyan,
  TERMINAL.magenta,
  TERMINAL.blue,
  TERMINAL.yellow,
  TERMINAL.green,
  TERMINAL.brightCyan,
];
const RESET = TERMINAL.reset;
const STATUS_COLOURS: Record<JobStatus, string> = {
  success: TERMINAL.green,
  failed: TERMINAL.red,
  'allowed-failure': TERMINAL.yellow,
  skipped: TERMINAL.grey,
  manual: TERMINAL.grey,
};

/** Section markers and the CR/clear-line sequences of the raw trace. */
const SECTION_MARKER = /section_(?:start|end):\d+:[^\r\n]*\r\x1b\[0K/g;

export class PipelineOutput {
  readonly #streams: WriteStreams;
  #colourIndex = 0;

  constructor(streams: WriteStreams) {
    this.#streams = streams;
  }

  /** A Writable that takes one job's raw trace and prints it line by line with the job's prefix. */
  jobTrace(jobName: string): Writable {
    const colour = JOB_COLOURS[this.#colourIndex++ % JOB_COLOURS.length] ?? '';
    const prefix = this.#streams.isTTY ? `${colour}[${jobName}]${RESET} ` : `[${jobName}] `;
    return lineWriter((line) => this.#streams.stdout.write(`${prefix}${this.#clean(line)}\n`));
  }

  /** A pipeline-level line (not from a job). */
  note(text: string): void {
    this.#streams.stdout.write(`${text}\n`);
  }

  warn(text: string): void {
    this.#streams.stderr.write(this.#streams.isTTY ? `${TERMINAL.yellow}${text}${RESET}\n` : `${text}\n`);
  }

  /** The table printed at the end: job, stage, status, duration. */
  summary(jobs: JobSummary[]): void {
    const rows = jobs.map((job) => [
      job.name,
      job.stage,
      job.status + (job.attempts && job.attempts > 1 ? ` (${job.attempts} attempts)` : ''),
      formatDuration(job.durationMs),
    ]);
    const header = ['JOB', 'STAGE', 'STATUS', 'DURATION'];
    const widths = header.map((title, column) =>
      Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
    );
    const format = (row: string[], status?: JobStatus) =>
      row
        .map((cell, column) => {
          const padded =
            column === row.length - 1 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0);
          return column === 2 && status && this.#streams.isTTY
            ? `${STATUS_COLOURS[status]}${padded}${RESET}`
            : padded;
        })
        .join('  ');
    this.note('');
    this.note(format(header));
    rows.forEach((row, index) => this.note(format(row, jobs[index]?.status)));
  }

  // Drops section markers; keeps the last carriage-return segment (progress redraws); strips colours off a TTY.
  #clean(line: string): string {
    const text = line.replace(SECTION_MARKER, '').replace(/\r$/, '');
    const visible = text.includes('\r') ? (text.split('\r').pop() ?? '') : text;
    return this.#streams.isTTY ? visible : stripAnsi(visible);
  }
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}
