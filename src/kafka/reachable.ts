import { connect, isIP } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { KafkaAccessError, tlsFailure, type AccessSettings } from './access.js';

/** No broker of kafka.brokers answered: the one-line reason names the key and the cause. */
export class KafkaUnreachableError extends Error {
  override readonly name = 'KafkaUnreachableError';
  readonly retriable = true;
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (name resolution failed)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
};

/** With TLS on, the probe's handshake: the options the client uses, and what explains a failure. */
export interface TlsProbe {
  options: ConnectionOptions;
  settings: AccessSettings;
}

/** A TLS handshake failed after the TCP connection was made: the broker answers, but not as it should. */
class HandshakeError extends Error {
  constructor(
    readonly broker: string,
    readonly failure: NodeJS.ErrnoException,
  ) {
    super(failure.message);
  }
}

/**
 * Opens a TCP connection to one broker (host:port or [v6]:port), and with `tls` makes the TLS
 * handshake too, and closes it; rejects with why not.
 */
function tryBroker(broker: string, timeoutMs: number, tls?: TlsProbe): Promise<void> {
  const at = broker.lastIndexOf(':');
  const host = broker.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(broker.slice(at + 1));
  return new Promise((resolve, reject) => {
    // As kafkajs connects: SNI only for a host name.
    const socket = tls ? connectTls({ ...tls.options, host, port, ...(isIP(host) ? {} : { servername: host }) }) : connect({ host, port });
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      connected = true;
      if (tls) return;
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(connected ? new HandshakeError(broker, err) : err);
    });
  });
}

/** A failed handshake as a KafkaAccessError; a broker that hangs up on it does not speak TLS there. */
function handshakeFailure(err: HandshakeError, settings: AccessSettings): KafkaAccessError {
  const { code, message } = err.failure;
  const hungUp = code === 'ECONNRESET' || code === 'EPIPE';
  return tlsFailure(err.broker, hungUp ? 'ERR_SSL_WRONG_VERSION_NUMBER' : code, message, settings) ?? new KafkaAccessError(`TLS to Kafka at ${err.broker} failed: ${message}`, 'protocol');
}

/**
 * Resolves as soon as one broker accepts a TCP connection (and with `tls`, completes the TLS
 * handshake); otherwise rejects, within about `timeoutMs`, with one line naming the brokers, the
 * key and the cause: what a one-shot command says instead of the client's retries and their
 * stack traces. A handshake that fails is a KafkaAccessError naming kafka.ssl.ca, or the like.
 */
export async function checkReachable(brokers: readonly string[], timeoutMs: number, tls?: TlsProbe): Promise<void> {
  const attempts = brokers.map((broker) => tryBroker(broker, timeoutMs, tls));
  try {
    await Promise.any(attempts);
  } catch (err) {
    const errors = ((err as AggregateError).errors ?? []) as unknown[];
    const handshake = errors.find((e): e is HandshakeError => e instanceof HandshakeError);
    if (handshake && tls) throw handshakeFailure(handshake, tls.settings);
    const first = errors[0] as NodeJS.ErrnoException | undefined;
    const cause = (first?.code && CAUSES[first.code]) ?? first?.message ?? 'no broker answered';
    throw new KafkaUnreachableError(`cannot reach Kafka at ${brokers.join(', ')} (kafka.brokers): ${cause}`);
  }
}

/**
 * The network cause in an error of the client (or one of its causes) in a few words
 * ("connection refused", "host not found"), or undefined when it names none.
 */
export function networkCause(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 6; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && CAUSES[e.code]) return CAUSES[e.code];
    const code = typeof e.message === 'string' ? /\b(E[A-Z_]{4,})\b/.exec(e.message)?.[1] : undefined;
    if (code && CAUSES[code]) return CAUSES[code];
  }
  return undefined;
}
