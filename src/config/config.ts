import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import convict from 'convict';
import { registerFormats } from './formats.js';
import { schemaDefinition } from './schema.js';
import { ConfigError } from './errors.js';
import { primaryUrlProblem, safeUrl } from './primary-url.js';

export interface Config {
  kafka: {
    brokers: string[];
    clientId: string;
    connectionTimeoutMs: number;
    requestTimeoutMs: number;
    sasl: { mechanism: '' | 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
    ssl: boolean;
  };
  topics: { events: string; partitions: number; replicationFactor: number; failedRetentionMs: number };
  primary: { name: string; root: string; url: string; username: string; password: string; sshKeyFile: string };
  publish: { timeoutMs: number; spoolDir: string; maxEventBytes: number };
  replica: {
    name: string;
    root: string;
    applyDeletes: boolean;
    fetchConcurrency: number;
    fetchTimeoutMs: number;
    recloneAfterFailures: number;
    missingRepoGraceMs: number;
    shutdownGraceMs: number;
    transactions: boolean;
    partitionsConsumedConcurrently: number;
    sessionTimeoutMs: number;
    maintenanceIntervalMs: number;
  };
  retry: { stages: number; initialDelayMs: number; multiplier: number; maxDelayMs: number; maxRetryPeriodMs: number };
  http: { host: string; port: number };
  log: { level: string; pretty: 'auto' | 'true' | 'false' };
}

export interface LoadOptions {
  /** A configuration file (JSON); overrides config/default.json. */
  file?: string | undefined;
  /** The environment to read PULLREP_* variables from. */
  env?: NodeJS.ProcessEnv;
  /** Values set last, e.g. from command-line flags. */
  overrides?: Record<string, unknown>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** config/default.json of the package, found from both src/ and dist/. */
export const defaultConfigFile = join(here, '..', '..', 'config', 'default.json');

export interface LoadedConfig {
  config: Config;
  /** The effective configuration as JSON with every secret replaced by "[redacted]". */
  redacted(): Record<string, unknown>;
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  registerFormats();
  const env = options.env ?? {};
  const schema = convict(schemaDefinition as never, { env, args: [] });
  if (existsSync(defaultConfigFile)) loadFile(schema, defaultConfigFile);
  if (options.file) {
    const file = resolve(options.file);
    if (!existsSync(file)) throw new ConfigError(`configuration file not found: ${file}`);
    loadFile(schema, file);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) schema.set(key as never, value as never);
  }
  try {
    schema.validate({ allowed: 'strict' });
  } catch (err) {
    throw new ConfigError(describeInvalid((err as Error).message));
  }
  const config = schema.getProperties() as unknown as Config;
  checkRelations(config);
  return {
    config,
    redacted: () => JSON.parse(schema.toString()) as Record<string, unknown>,
  };
}

function loadFile(schema: convict.Config<unknown>, file: string): void {
  try {
    schema.loadFile(file);
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(err as Error).message}`);
  }
}

/** Convict reports one problem per line; keep them, drop its noise. */
function describeInvalid(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join('; ');
}

/** Checks that involve more than one key. Each message names the keys. */
export function checkRelations(config: Config): void {
  const problems: string[] = [];
  const { retry, primary } = config;
  if (retry.maxDelayMs < retry.initialDelayMs) {
    problems.push('retry.maxDelayMs cannot be less than retry.initialDelayMs');
  }
  if (retry.stages > 0 && retry.maxRetryPeriodMs < retry.initialDelayMs) {
    problems.push('retry.maxRetryPeriodMs cannot be less than retry.initialDelayMs');
  }
  const urlProblem = primary.url ? primaryUrlProblem(primary.url) : undefined;
  if (urlProblem) problems.push(urlProblem.message);
  if (problems.length) throw new ConfigError(problems.join('; '));
}

export { safeUrl };
