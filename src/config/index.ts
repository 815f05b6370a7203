export { loadConfig, checkRelations } from './config.js';
export type { Config, LoadOptions, LoadedConfig } from './config.js';
export { ConfigError } from './errors.js';
export { readCaFile } from './ca-file.js';
export { PRIMARY_URL_SCHEMES, primaryUrlProblem, safeUrl } from './primary-url.js';
export { envName, CONFIG_KEYS } from './schema.js';
export { compileOptions, requireKeys, requireRole, ROLE_KEYS, DEFAULT_SPOOL_NAME } from './options.js';
export type * from './options.js';
