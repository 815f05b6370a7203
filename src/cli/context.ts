import type { Command } from 'commander';
import { compileOptions, loadConfig, requireKeys, requireRole, type LoadedConfig, type Options, type Role } from '../config/index.js';
import { boundedKafkaSettings, createKafka, installKafkaWorkarounds, type KafkaClient } from '../kafka/index.js';
import { createLogger, quietUnlessDebug, type Logger } from '../log/index.js';

/** What a command gets from main.ts: the environment and the streams, passed in, never read globally. */
export interface Runtime {
  env: NodeJS.ProcessEnv;
  /** The working directory the command was started in. */
  cwd: string;
  /** The Node.js binary running pullrep. */
  execPath: string;
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
  /** Each feature's compiled options. */
  options: Options;
  logger: Logger;
  /**
   * A Kafka client. One-shot commands keep the client's own retry chatter out of their output
   * (their failure ends in a one-line reason); long-running ones pass `verbose` to log it.
   * At log level debug or trace everything is logged. The kafkajs workarounds are installed
   * (once) before the first client is made.
   */
  kafka(options?: { verbose?: boolean }): KafkaClient;
  /** A client whose timeouts and retries fit in publish.timeoutMs: the hook's, which must never wait long. */
  publishKafka(): KafkaClient;
}

/**
 * Loads configuration (file from --config or PULLREP_CONFIG, then PULLREP_* variables), checks
 * what the command's role needs, and makes the logger. Warnings (a PULLREP_ variable that no key
 * reads) go to stderr, one line each.
 */
export function makeContext(runtime: Runtime, global: GlobalOptions, needs: { role?: Role; keys?: readonly string[] } = {}): CommandContext {
  const loaded = loadConfig({
    file: global.config ?? runtime.env.PULLREP_CONFIG,
    env: runtime.env,
    overrides: global.logLevel ? { 'log.level': global.logLevel } : {},
  });
  const { config } = loaded;
  // First the typos, which may be why a required key is missing.
  for (const warning of loaded.warnings) runtime.stderr.write(`pullrep: warning: ${warning}\n`);
  if (needs.role) requireRole(config, needs.role);
  if (needs.keys) requireKeys(config, needs.keys);
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, destination: runtime.stderr });
  const options = compileOptions(config);
  const client = (verbose: boolean, timeoutMs?: number) => {
    installKafkaWorkarounds(logger);
    // One-shot commands (not verbose) fail at once, in one line, when no broker answers.
    const settings = { ...options.kafka, logger: quietUnlessDebug(logger, verbose), checkReachable: !verbose && timeoutMs === undefined };
    return createKafka(timeoutMs === undefined ? settings : boundedKafkaSettings(settings, timeoutMs));
  };
  return {
    runtime,
    loaded,
    options,
    logger,
    kafka: ({ verbose = false } = {}) => client(verbose),
    publishKafka: () => client(false, options.publish.timeoutMs),
  };
}

/**
 * A subcommand that prints JSON with --json (for scripts) and text otherwise: the one place that
 * defines the flag, so every such command spells it the same way.
 */
export function reportCommand(parent: Command, name: string, description: string): Command {
  return parent.command(name).description(description).option('--json', 'print JSON (stable field names, numbers as numbers)');
}
