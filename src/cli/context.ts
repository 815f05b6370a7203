import { loadConfig, type LoadedConfig } from '../config/index.js';
import { createLogger, quietUnlessDebug, type Logger } from '../log/index.js';
import { createKafka, type Kafka } from '../kafka/index.js';

/** What a command gets from main.ts: the environment and the streams, passed in, never read globally. */
export interface Runtime {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Registers work to run on SIGTERM/SIGINT; main.ts owns the signal handlers. */
  onShutdown(handler: () => Promise<void>): void;
}

export interface GlobalOptions {
  config?: string;
  logLevel?: string;
}

export interface CommandContext {
  runtime: Runtime;
  loaded: LoadedConfig;
  logger: Logger;
  /**
   * A Kafka client. One-shot commands keep the client's own retry chatter out of their output
   * (their failure ends in a one-line reason); long-running ones pass `verbose` to log it.
   * At log level debug or trace everything is logged.
   */
  kafka(options?: { retries?: number; verbose?: boolean }): Kafka;
}

/** Loads configuration (file from --config or PULLREP_CONFIG, then PULLREP_* variables) and a logger. */
export function makeContext(runtime: Runtime, options: GlobalOptions, overrides: Record<string, unknown> = {}): CommandContext {
  const loaded = loadConfig({
    file: options.config ?? runtime.env.PULLREP_CONFIG,
    env: runtime.env,
    overrides: { ...(options.logLevel ? { 'log.level': options.logLevel } : {}), ...overrides },
  });
  const { config } = loaded;
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, destination: runtime.stderr });
  return {
    runtime,
    loaded,
    logger,
    kafka: ({ verbose = false, ...overrides } = {}) =>
      createKafka({ ...config.kafka, logger: quietUnlessDebug(logger, verbose), ...overrides }),
  };
}
