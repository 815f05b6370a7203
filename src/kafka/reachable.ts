import { connect } from 'node:net';

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

/** Opens a TCP connection to one broker (host:port or [v6]:port) and closes it; rejects with why not. */
function tryBroker(broker: string, timeoutMs: number): Promise<void> {
  const at = broker.lastIndexOf(':');
  const host = broker.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(broker.slice(at + 1));
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

/**
 * Resolves as soon as one broker accepts a TCP connection; otherwise rejects, within about
 * `timeoutMs`, with one line naming the brokers, the key and the cause: what a one-shot command
 * says instead of the client's retries and their stack traces.
 */
export async function checkReachable(brokers: readonly string[], timeoutMs: number): Promise<void> {
  const attempts = brokers.map((broker) => tryBroker(broker, timeoutMs));
  try {
    await Promise.any(attempts);
  } catch (err) {
    const first = (err as AggregateError).errors?.[0] as NodeJS.ErrnoException | undefined;
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
