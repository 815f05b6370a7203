export { loadConfig, checkRelations, safeUrl, defaultConfigFile } from './config.js';
export type { Config, LoadOptions, LoadedConfig } from './config.js';
export { ConfigError } from './errors.js';
export { PRIMARY_URL_SCHEMES, primaryUrlProblem } from './primary-url.js';
export { envName } from './schema.js';
