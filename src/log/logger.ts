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

/**
 * An error as a log field: its type, message and the messages of its causes; the stack only at
 * debug and trace, where someone is looking for where it came from. Expected failures (a broker
 * or primary that is down, a bad configuration) then read as one line on a terminal.
 */
export function errorSerializer(withStack: boolean): (err: unknown) => unknown {
  return (err: unknown) => {
    if (!(err instanceof Error)) return err;
    const causes: string[] = [];
    for (let c = err.cause, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) causes.push(c.message);
    const kind = (err as { kind?: unknown }).kind;
    return {
      type: err.name,
      message: err.message,
      ...(typeof kind === 'string' ? { kind } : {}),
      ...(causes.length ? { causes } : {}),
      ...(withStack && err.stack ? { stack: err.stack } : {}),
    };
  };
}

export function createLogger(settings: LoggerSettings): Logger {
  const destination = settings.destination ?? process.stderr;
  const isTty = Boolean((destination as { isTTY?: boolean }).isTTY);
  const pretty = settings.pretty === 'true' || (settings.pretty === 'auto' && isTty);
  const withStack = settings.level === 'debug' || settings.level === 'trace';
  const options: LoggerOptions = {
    level: settings.level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: errorSerializer(withStack), error: errorSerializer(withStack) },
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
