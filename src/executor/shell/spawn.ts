// The one place the shell executor starts processes, so tests can replace it.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export type SpawnProcess = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export const spawnProcess: SpawnProcess = (command, args, options) => spawn(command, args, options);
