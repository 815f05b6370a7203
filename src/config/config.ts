import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import convict from 'convict';
import { registerFormats } from './formats.js';
import { CONFIG_KEYS, convictSchema, envName, type Config } from './schema.js';
import { ConfigError } from './errors.js';
import { primaryUrlProblem } from './primary-url.js';
import { nearest } from './nearest.js';
import { RENAMED_VARIABLES, renameInEnv, renameInFile, renameInOverrides } from './renamed.js';

export type { Config };

export interface LoadOptions {
  /** A configuration file (JSON); its values override the schema's defaults. */
  file?: string | undefined;
  /** The environment to read PULLREP_* variables from. */
  env?: NodeJS.ProcessEnv;
  /** Values set last, e.g. from command-line flags. */
  overrides?: Record<string, unknown>;
}

export interface LoadedConfig {
  config: Config;
  /** The effective configuration as JSON with every secret replaced by "[redacted]". */
  redacted(): Record<string, unknown>;
  /** Problems that do not stop a command, e.g. a PULLREP_ variable that matches no key. */
  warnings: string[];
}

/**
 * PULLREP_ variables that are not configuration keys: the configuration file's name, and the
 * settings of the scripts that run a local broker.
 */
const OTHER_VARIABLES = new Set([
  'PULLREP_CONFIG',
  'PULLREP_KAFKA_PORT',
  'PULLREP_KAFKA_HOME',
  'PULLREP_KAFKA_HEAP',
  'PULLREP_KAFKA_START_TIMEOUT',
  'PULLREP_KAFKA_NODES',
  'PULLREP_KAFKA_SECURITY',
  'PULLREP_DEMO_DIR',
  'PULLREP_TEST_KAFKA_PORT',
]);

const ENV_NAMES = CONFIG_KEYS.map(envName);
const KNOWN_VARIABLES = new Set([...ENV_NAMES, ...RENAMED_VARIABLES]);

/** Defaults from the schema, then the file, then PULLREP_* variables, then `overrides`. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  registerFormats();
  const env = options.env ?? {};
  const renamed = renameInEnv(env);
  const schema = convict<Config>(convictSchema(), { env: renamed.env, args: [] });
  if (options.file) loadFile(schema, options.file);
  for (const [key, value] of Object.entries(renameInOverrides(options.overrides ?? {}))) {
    if (value === undefined) continue;
    if (!CONFIG_KEYS.includes(key)) throw new ConfigError(unknownKey(`'${key}'`, key, CONFIG_KEYS));
    schema.set(key as never, value as never);
  }
  try {
    schema.validate({ allowed: 'strict' });
  } catch (err) {
    throw new ConfigError(describeInvalid((err as Error).message));
  }
  const config = schema.getProperties();
  checkRelations(config);
  return { config, redacted: () => JSON.parse(schema.toString()) as Record<string, unknown>, warnings: [...renamed.warnings, ...unknownVariables(env)] };
}

function loadFile(schema: convict.Config<Config>, path: string): void {
  const file = resolve(path);
  if (!existsSync(file)) throw new ConfigError(`configuration file not found: ${file}`);
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(err as Error).message}`);
  }
  if (content === null || typeof content !== 'object' || Array.isArray(content)) {
    throw new ConfigError(`configuration file ${file} must hold one JSON object`);
  }
  const values = renameInFile(content as Record<string, unknown>);
  for (const key of flatKeys(values)) {
    if (!CONFIG_KEYS.includes(key)) throw new ConfigError(`${file}: ${unknownKey(`'${key}'`, key, CONFIG_KEYS)}`);
  }
  schema.load(values as Partial<Config>);
}

/** The dotted keys of a file's values (`{ kafka: { brokers } }` → `kafka.brokers`). */
function flatKeys(node: object, path: string[] = []): string[] {
  return Object.entries(node).flatMap(([key, value]: [string, unknown]) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) ? flatKeys(value, [...path, key]) : [[...path, key].join('.')],
  );
}

function unknownKey(shown: string, key: string, candidates: readonly string[]): string {
  const guess = nearest(key, candidates);
  return `${shown} is not a configuration key${guess ? `; did you mean '${guess}'?` : ''}`;
}

/** A PULLREP_ variable that no key reads is a typo until shown otherwise. */
function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('PULLREP_') && !OTHER_VARIABLES.has(name) && !KNOWN_VARIABLES.has(name))
    .sort()
    .map((name) => unknownKey(`environment variable ${name}`, name, ENV_NAMES));
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
  const { sasl } = config.kafka;
  if (sasl.mechanism) {
    for (const key of ['username', 'password'] as const) {
      if (!sasl[key]) problems.push(`kafka.sasl.${key} must be set when kafka.sasl.mechanism is (${envName(`kafka.sasl.${key}`)})`);
    }
  }
  if (problems.length) throw new ConfigError(problems.join('; '));
}
