import kafkajs from 'kafkajs';
import type { KafkaOptions } from '../config/index.js';

/**
 * The brokers answer but will not take pullrep: they refuse its SASL credentials, their TLS
 * certificate is not one it trusts, or the two sides do not speak the same security protocol.
 * Only a change of configuration helps, so it is not retriable; the message is one line naming
 * the key to change, and never holds a secret (what it is made from holds none).
 */
export class KafkaAccessError extends Error {
  override readonly name = 'KafkaAccessError';
  readonly retriable = false;
  constructor(
    message: string,
    readonly problem: 'credentials' | 'certificate' | 'protocol',
  ) {
    super(message);
  }
}

/** What explaining an error needs of the `kafka.*` options: never the password. */
export interface AccessSettings {
  ssl: KafkaOptions['ssl'];
  sasl: Pick<KafkaOptions['sasl'], 'mechanism' | 'username'>;
}

/** Node.js's codes for a certificate that no trusted CA signed. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** Other TLS failures, by Node.js's code. */
const TLS_FAILURES: Record<string, string> = {
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate is not made out to that host (kafka.brokers)',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet',
  ERR_SSL_WRONG_VERSION_NUMBER: 'it does not speak TLS on that port (a plaintext listener?); check kafka.ssl.enabled and kafka.ssl.ca',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'it does not speak TLS on that port (a plaintext listener?); check kafka.ssl.enabled and kafka.ssl.ca',
};

/** kafkajs says that the broker does not offer the mechanism only in this message (saslAuthenticator/index.js). */
const MECHANISM_NOT_OFFERED = /mechanism is not supported by the server/;

const shown = (text: string) => `'${text.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)}'`;

/** The TLS failure of a handshake with `broker` (Node.js's error code and message), or undefined when it is none. */
export function tlsFailure(broker: string, code: string | undefined, message: string, settings: AccessSettings): KafkaAccessError | undefined {
  const detail = message.replace(/^Connection error: /, '');
  if (code && UNTRUSTED.has(code)) {
    const why = settings.ssl.ca
      ? `its certificate is not signed by the CA of kafka.ssl.ca (${settings.ssl.ca})`
      : "its certificate is not signed by a CA Node.js trusts; set kafka.ssl.ca to the PEM file of the CA that signed it";
    return new KafkaAccessError(`TLS to Kafka at ${broker} failed: ${why} (${detail})`, 'certificate');
  }
  const why = code ? TLS_FAILURES[code] : undefined;
  return why ? new KafkaAccessError(`TLS to Kafka at ${broker} failed: ${why} (${detail})`, code?.startsWith('ERR_SSL') ? 'protocol' : 'certificate') : undefined;
}

interface ClientError {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  type?: unknown;
  broker?: unknown;
  host?: unknown;
  port?: unknown;
  cause?: unknown;
}

/** The broker an error of the client names, host:port. */
function brokerOf(e: ClientError): string | undefined {
  if (typeof e.broker === 'string') return e.broker;
  return typeof e.host === 'string' ? `${e.host}:${String(e.port)}` : undefined;
}

/** "Kafka at host:port", or "Kafka" where the error does not say which broker. */
const kafkaAt = (e: ClientError) => (brokerOf(e) ? `Kafka at ${brokerOf(e)}` : 'Kafka');

/** One error of the client (not its causes), explained, or undefined. */
function explainOne(e: ClientError, settings: AccessSettings, connecting: boolean): KafkaAccessError | undefined {
  if (e instanceof KafkaAccessError) return e;
  const mechanism = settings.sasl.mechanism.toUpperCase();
  const message = typeof e.message === 'string' ? e.message : '';
  if (e instanceof kafkajs.KafkaJSSASLAuthenticationError || e.name === 'KafkaJSSASLAuthenticationError' || e.type === 'SASL_AUTHENTICATION_FAILED') {
    if (MECHANISM_NOT_OFFERED.test(message)) {
      return new KafkaAccessError(`Kafka does not offer SASL mechanism ${mechanism} (kafka.sasl.mechanism) on that listener`, 'protocol');
    }
    return new KafkaAccessError(`Kafka refused the SASL credentials of kafka.sasl.username ${shown(settings.sasl.username)} (${mechanism}): authentication failed`, 'credentials');
  }
  if (e.type === 'ILLEGAL_SASL_STATE' || e.type === 'UNSUPPORTED_SASL_MECHANISM') {
    return new KafkaAccessError(`${kafkaAt(e)} takes no SASL ${mechanism} on that listener (kafka.sasl.mechanism): is it the right port, or does it want TLS too (kafka.ssl.ca)?`, 'protocol');
  }
  if (typeof e.code === 'string') {
    const tls = tlsFailure(brokerOf(e) ?? 'the brokers', e.code, message, settings);
    if (tls) return tls;
  }
  // A listener that wants TLS or SASL closes the connection of a client that offers neither (a
  // broker closing one that was up says nothing of the kind).
  if (connecting && (e.name === 'KafkaJSConnectionClosedError' || (e.code === 'ECONNRESET' && !settings.ssl.enabled))) {
    const hint = !settings.ssl.enabled
      ? 'if its listener wants TLS, set kafka.ssl.ca (or kafka.ssl.enabled)'
      : !settings.sasl.mechanism
        ? 'if its listener wants SASL, set kafka.sasl.mechanism, kafka.sasl.username and kafka.sasl.password'
        : undefined;
    if (hint) return new KafkaAccessError(`${kafkaAt(e)} closed the connection without answering: ${hint}`, 'protocol');
  }
  return undefined;
}

/**
 * The client's error (or one of its causes: kafkajs wraps what its retries ended on) as a
 * KafkaAccessError when it says the brokers refuse pullrep; undefined for anything else.
 * `connecting`: the error ended a first connection, where a closed connection is the broker's
 * answer to a client without the TLS or SASL its listener wants.
 */
export function accessError(err: unknown, settings: AccessSettings, connecting = false): KafkaAccessError | undefined {
  for (let e = err as ClientError | undefined, depth = 0; e && typeof e === 'object' && depth < 6; e = e.cause as ClientError | undefined, depth++) {
    const explained = explainOne(e, settings, connecting);
    if (explained) return explained;
  }
  return undefined;
}
