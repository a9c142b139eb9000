// The config module's public surface.
export type * from './types.js';
export { EXECUTORS, LOG_FORMATS, LOG_LEVELS } from './types.js';
export {
  CONFIG_ERROR_CODES,
  loadConfig,
  loadConfigOrEmpty,
  loadConfigWithWarnings,
  parseConfig,
  parseConfigWithWarnings,
  type LoadedConfig,
} from './load.js';
export { renderConfig, saveConfig, writeFileAtomic } from './save.js';
export { currentHost, defaultImageDir, hostDefaults, resolveConfigPath, type HostFacts } from './paths.js';
export { loadOrCreateSystemId, generateSystemId, SYSTEM_ID_FILE } from './system-id.js';
export { newRunnerConfig } from './runner-defaults.js';
export type { HostDefaults } from './fields.js';
export { shortToken } from './short-token.js';
