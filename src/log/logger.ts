import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export interface LoggerSettings {
  level: string;
  /** 'auto' = pretty when the log stream (stderr) is a terminal. */
  pretty: 'auto' | 'true' | 'false';
  /** Where logs go; stderr by default so stdout stays clean for command output. */
  destination?: NodeJS.WritableStream & { fd?: number };
}

/** Paths of values that must never reach a log line. */
export const REDACT_PATHS = [
  'password',
  'token',
  'authorization',
  '*.password',
  '*.token',
  '*.authorization',
  'config.kafka.sasl.password',
  'config.primary.password',
  'config.primary.sshKeyFile',
];

export function createLogger(settings: LoggerSettings): Logger {
  const destination = settings.destination ?? process.stderr;
  const isTty = Boolean((destination as { isTTY?: boolean }).isTTY);
  const pretty = settings.pretty === 'true' || (settings.pretty === 'auto' && isTty);
  const options: LoggerOptions = {
    level: settings.level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (pretty) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { destination: 2, colorize: isTty, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(options, destination);
}

/**
 * The logger for a chatty dependency (the Kafka client's retries): silent unless the user asked
 * for debug or trace, or the caller wants it kept (long-running processes).
 */
export function quietUnlessDebug(logger: Logger, keep = false): Logger {
  if (keep || logger.level === 'debug' || logger.level === 'trace') return logger;
  return logger.child({}, { level: 'silent' });
}

/** A logger that drops everything (for tests and library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
