export { ShellExecutor, type ShellExecutorOptions } from './shell-executor.js';
export { ShellEnvironment } from './shell-environment.js';
export type { SpawnProcess } from './spawn.js';
