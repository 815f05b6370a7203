import kafkajs, { type Kafka, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { stopIdleRequestTimers } from './idle-timers.js';

// kafkajs is CommonJS; its named exports are reached through the default export.
const { Kafka: KafkaClass, logLevel } = kafkajs;

/** The `kafka.*` configuration keys, plus what the caller adds. */
export type KafkaSettings = Config['kafka'] & {
  logger: Logger;
  /** Retries of the client's own requests; lower it where failing fast matters (publish). */
  retries?: number;
  /** Leave kafkajs's idle request timers as shipped (only to measure what they cost). */
  keepIdleTimers?: boolean;
};

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Routes the client's log lines into pino, one level down: its errors are usually retried. */
function logCreator(logger: Logger) {
  const child = logger.child({ component: 'kafka' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...rest } = log;
      const name = LEVELS[level] ?? 'info';
      const demoted = name === 'error' ? 'warn' : name === 'warn' ? 'info' : 'debug';
      child[demoted](rest, message);
    };
}

export function createKafka(settings: KafkaSettings): Kafka {
  // Also what keeps Node 24 from printing a TimeoutNegativeWarning on every run (see idle-timers.ts).
  if (!settings.keepIdleTimers) stopIdleRequestTimers(settings.logger);
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    ssl: settings.ssl,
    logLevel: logLevel.WARN,
    logCreator: logCreator(settings.logger),
    retry: settings.retries === undefined ? undefined : { retries: settings.retries, initialRetryTime: 100 },
  };
  if (settings.sasl.mechanism) {
    config.sasl = {
      mechanism: settings.sasl.mechanism,
      username: settings.sasl.username,
      password: settings.sasl.password,
    } as SASLOptions;
  }
  return new KafkaClass(config);
}
