// A minimal runner-side client for driving the fake directly in tests (the real client lives in
// src/gitlab/). It sends what gitlab-runner sends, so the fake's strict checks pass by default.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { EnqueueJobOptions, FakeGitLab, QueuedJob } from './fake-gitlab.js';

export interface ApiAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
  bytes: Buffer;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
}

export interface ApiCall {
  method: string;
  /** Relative to the fake's base URL, e.g. `api/v4/jobs/request`. */
  path: string;
  json?: unknown;
  body?: Buffer | string | Buffer[];
  headers?: Record<string, string>;
}

/** One HTTP call; a `Buffer[]` body is sent chunk by chunk with chunked transfer encoding. */
export function callApi(baseUrl: string, call: ApiCall): Promise<ApiAnswer> {
  const url = new URL(call.path, baseUrl);
  const headers: Record<string, string> = { ...call.headers };
  let chunks: Buffer[] = [];
  if (call.json !== undefined) {
    headers['Content-Type'] ??= 'application/json';
    chunks = [Buffer.from(JSON.stringify(call.json))];
  } else if (Array.isArray(call.body)) {
    chunks = call.body;
    headers['Transfer-Encoding'] = 'chunked';
  } else if (call.body !== undefined) {
    chunks = [Buffer.from(call.body)];
  }
  if (!Array.isArray(call.body)) headers['Content-Length'] = String(chunks.reduce((n, c) => n + c.length, 0));
  return new Promise((resolve, reject) => {
    const req = request(url, { method: call.method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const bytes = Buffer.concat(parts);
        const text = bytes.toString('utf8');
        const flat: Record<string, string> = {};
        for (const [key, value] of Object.entries(res.headers))
          if (value !== undefined) flat[key] = String(value);
        resolve({ status: res.statusCode ?? 0, headers: flat, text, bytes, json: parseJson(text) });
      });
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** Every `info.features` flag gitlab-runner 19.4 sends (§2.1), with overrides. */
export function runnerFeatures(overrides: Record<string, boolean> = {}): Record<string, boolean> {
  const all = [
    'variables',
    'image',
    'services',
    'artifacts',
    'cache',
    'fallback_cache_keys',
    'upload_multiple_artifacts',
    'upload_raw_artifacts',
    'session',
    'terminal',
    'refspecs',
    'masking',
    'raw_variables',
    'artifacts_exclude',
    'multi_build_steps',
    'trace_reset',
    'trace_checksum',
    'trace_size',
    'vault_secrets',
    'cancelable',
    'return_exit_code',
    'service_variables',
    'service_multiple_aliases',
    'image_executor_opts',
    'service_executor_opts',
    'cancel_gracefully',
    'native_steps_integration',
    'two_phase_job_commit',
    'job_inputs',
  ];
  return {
    ...Object.fromEntries(all.map((name) => [name, true])),
    shared: false,
    proxy: false,
    ...overrides,
  };
}

/** A /jobs/request body like gitlab-runner's (§2.1). */
export function jobRequestBody(
  token: string,
  extra: { lastUpdate?: string; features?: Record<string, boolean>; systemId?: string } = {},
): Record<string, unknown> {
  return {
    info: {
      name: 'tart',
      version: '0.1.0',
      platform: 'linux',
      architecture: 'amd64',
      executor: 'vm',
      shell: 'bash',
      features: extra.features ?? runnerFeatures(),
      config: { gpus: '' },
    },
    token,
    system_id: extra.systemId ?? 's_0123456789ab',
    ...(extra.lastUpdate === undefined ? {} : { last_update: extra.lastUpdate }),
  };
}

/** Enqueues a job, hands it to `runnerToken` and acknowledges it as running, so its token is valid. */
export async function runningJob(
  fake: FakeGitLab,
  runnerToken: string,
  options: EnqueueJobOptions = {},
): Promise<QueuedJob> {
  const job = fake.enqueueJob(options);
  const handedOut = await callApi(fake.url, {
    method: 'POST',
    path: 'api/v4/jobs/request',
    json: jobRequestBody(runnerToken),
  });
  assert.equal(handedOut.status, 201);
  const running = await callApi(fake.url, {
    method: 'PUT',
    path: `api/v4/jobs/${job.id}`,
    json: { token: job.token, state: 'running' },
    headers: { 'JOB-TOKEN': job.token },
  });
  assert.equal(running.status, 200);
  return job;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
