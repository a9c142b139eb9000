// Where stage scripts run. An executor prepares one JobEnvironment per job; the job engine
// (src/job) drives it only through `exec`, so the shell executor and the VM executor are
// interchangeable. Tar streams in and out are built on `exec` in executor/streams.ts.
import type { JobPayload, JobVariable } from '../model/payload.js';
import type { ExecOptions, ExecResult } from '../model/exec.js';
import type { PoolSettings } from './pool-settings.js';

export type { ExecOptions, ExecResult } from '../model/exec.js';

export interface JobEnvironment {
  /** Executor name as shown in the trace: "shell", "qemu", "firecracker". */
  readonly executorName: string;
  /** Absolute builds dir inside the environment (CI_BUILDS_DIR). */
  readonly buildsDir: string;
  /** True when the environment is thrown away after the job (CI_DISPOSABLE_ENVIRONMENT). */
  readonly disposable: boolean;
  /**
   * The argv that runs the user's stages (step_*, after_script) with the script on stdin, when
   * they run somewhere else than the other stages (the job's container image); default `bash`.
   */
  readonly userScriptCommand?: readonly string[];
  /**
   * The argv for the other stages (sources, caches, artifacts) of such a job: bash under
   * `umask 0000`, as gitlab-runner's helper container runs them, so a build user who is not root
   * can write what they made. The job uses plain `bash` when FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR
   * is on, or when this is absent.
   */
  readonly helperScriptCommand?: readonly string[];
  /**
   * The image's user, when it is not root. With FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR the helper
   * stages make root-owned files, so the job hands the project dir to this user before its first
   * user stage, as gitlab-runner's docker executor does.
   */
  readonly buildUser?: { readonly uid: number; readonly gid: number };
  /**
   * The address at which this environment reaches the host's 127.0.0.1 (QEMU user mode: 10.0.2.2);
   * GitLab URLs on 127.0.0.1/localhost/[::1] are rewritten to it for the job's scripts. Absent: the
   * environment reaches the host's loopback as the host does (shell) or not at all (TAP).
   */
  readonly hostLoopbackAlias?: string;
  /**
   * Runs one command to completion. Writes its output to the given streams but never ends or
   * destroys them, and resolves only after all output has been written to them.
   */
  exec(options: ExecOptions): Promise<ExecResult>;
  /**
   * Starts the job's `services:` once its variables are known, before its first stage, and waits
   * for them as gitlab-runner does (a service that never gets ready is a warning, not a failure).
   * Absent: the environment runs no services.
   */
  startServices?(options: StartServicesOptions): Promise<void>;
  /** Releases everything the environment holds (processes, VM, disks). Idempotent; never throws. */
  close(): Promise<void>;
}

export interface StartServicesOptions {
  /** The job's variables (buildJobVariables); services get the public ones. */
  variables: readonly JobVariable[];
  /** One plain runner line into the trace. */
  log: (line: string) => void;
  /** Raw text into the trace (the readiness warning block, service output). */
  write: (text: string) => void;
  /** CI_DEBUG_SERVICES: every service's output goes into the trace until the environment closes. */
  followLogs: boolean;
  signal: AbortSignal;
}

export interface PrepareOptions {
  job: JobPayload;
  /** Where the executor writes its own progress lines (already masked downstream). */
  log: (line: string) => void;
  signal: AbortSignal;
}

export interface Executor {
  readonly name: string;
  /** Acquires a fresh environment for one job (creates the dir, boots the VM, …). */
  prepare(options: PrepareOptions): Promise<JobEnvironment>;
  /** Starts background work, e.g. booting a warm pool's VMs. Called once the daemon runs. */
  start?(): void;
  /** Stops background work and frees what no job holds (idle pooled VMs). Never throws. */
  dispose?(): Promise<void>;
  /**
   * A reload changed only the pool's size: applies it in place. False when the executor cannot
   * (it has no pool and now needs one): the caller builds a new executor. Absent: nothing to resize.
   */
  resizePool?(settings: PoolSettings): boolean;
  /** A warm pool's VMs by state, when the executor keeps one. */
  poolCounts?(): { booting: number; idle: number; in_use: number } | undefined;
}
