import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { accessError, type AccessSettings } from '../../src/kafka/access.js';

/** kafkajs's error classes as its JavaScript has them (its typings leave some out, or their options). */
type ErrorClass = new (message: unknown, options?: Record<string, unknown>) => Error;
type Names = 'KafkaJSSASLAuthenticationError' | 'KafkaJSNonRetriableError' | 'KafkaJSNumberOfRetriesExceeded' | 'KafkaJSConnectionError' | 'KafkaJSConnectionClosedError' | 'KafkaJSProtocolError';
const { KafkaJSSASLAuthenticationError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSConnectionError, KafkaJSConnectionClosedError, KafkaJSProtocolError } = kafkajs as unknown as Record<Names, ErrorClass>;

const plain: AccessSettings = { ssl: { enabled: false, ca: '' }, sasl: { mechanism: '', username: '' } };
const secured: AccessSettings = { ssl: { enabled: true, ca: '/etc/pullrep/kafka-ca.pem' }, sasl: { mechanism: 'scram-sha-512', username: 'pullrep' } };
const tlsOnly: AccessSettings = { ssl: { enabled: true, ca: '' }, sasl: { mechanism: '', username: '' } };

/** What kafkajs 2.2.4 throws, built as it builds it (broker answers seen from Kafka 4.1.1). */
const retried = (e: Error) => new KafkaJSNumberOfRetriesExceeded(e, { retryCount: 5, retryTime: 3000 });
const bailed = (e: Error) => new KafkaJSNonRetriableError(e, { cause: e });
const SCRAM_REFUSED = 'SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512';
const untrusted = () => new KafkaJSConnectionError('Connection error: self-signed certificate in certificate chain', { broker: '127.0.0.1:9093', code: 'SELF_SIGNED_CERT_IN_CHAIN' });

describe('explaining why the brokers refuse pullrep', () => {
  it.each([
    ['a SCRAM login refused', secured, new KafkaJSSASLAuthenticationError(SCRAM_REFUSED), "Kafka refused the SASL credentials of kafka.sasl.username 'pullrep' (SCRAM-SHA-512): authentication failed", 'credentials'],
    ['the same, wrapped by the client', secured, bailed(new KafkaJSSASLAuthenticationError(SCRAM_REFUSED)), /^Kafka refused the SASL credentials of kafka\.sasl\.username 'pullrep'/, 'credentials'],
    ['a mechanism the broker does not offer', secured, new KafkaJSSASLAuthenticationError('SASL SCRAM-SHA-512 mechanism is not supported by the server'), 'Kafka does not offer SASL mechanism SCRAM-SHA-512 (kafka.sasl.mechanism) on that listener', 'protocol'],
    ['SASL on a listener without it', secured, new KafkaJSProtocolError({ message: 'Request is not valid given the current SASL state', type: 'ILLEGAL_SASL_STATE', code: 34, retriable: false } as never), /^Kafka takes no SASL SCRAM-SHA-512 on that listener \(kafka\.sasl\.mechanism\)/, 'protocol'],
    ['a certificate of another CA, after the retries', secured, retried(untrusted()), 'TLS to Kafka at 127.0.0.1:9093 failed: its certificate is not signed by the CA of kafka.ssl.ca (/etc/pullrep/kafka-ca.pem) (self-signed certificate in certificate chain)', 'certificate'],
    ['a certificate no CA of Node.js signed', tlsOnly, untrusted(), /: its certificate is not signed by a CA Node\.js trusts; set kafka\.ssl\.ca to the PEM file of the CA that signed it \(/, 'certificate'],
    ['a certificate for another host', secured, new KafkaJSConnectionError("Connection error: Hostname/IP does not match certificate's altnames", { broker: 'kafka-1:9093', code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), /^TLS to Kafka at kafka-1:9093 failed: its certificate is not made out to that host \(kafka\.brokers\)/, 'certificate'],
    ['no TLS to a TLS listener', plain, retried(new KafkaJSConnectionClosedError('Closed connection', { host: '127.0.0.1', port: 9093 })), 'Kafka at 127.0.0.1:9093 closed the connection without answering: if its listener wants TLS, set kafka.ssl.ca (or kafka.ssl.enabled)', 'protocol'],
    ['TLS without SASL to a SASL listener', tlsOnly, new KafkaJSConnectionClosedError('Closed connection', { host: '127.0.0.1', port: 9093 }), /closed the connection without answering: if its listener wants SASL, set kafka\.sasl\.mechanism, kafka\.sasl\.username and kafka\.sasl\.password$/, 'protocol'],
  ])('%s', (_case, settings, err, message, problem) => {
    const explained = accessError(err, settings, true);
    expect(explained?.retriable).toBe(false);
    expect(explained?.problem).toBe(problem);
    if (typeof message === 'string') expect(explained?.message).toBe(message);
    else expect(explained?.message).toMatch(message);
  });

  it('leaves everything else to the caller', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', { broker: '127.0.0.1:9092', code: 'ECONNREFUSED' });
    expect(accessError(retried(refused), secured, true)).toBeUndefined();
    expect(accessError(new Error('anything'), secured, true)).toBeUndefined();
    // A connection that closes later (a broker restarting) says nothing about TLS or SASL.
    expect(accessError(new KafkaJSConnectionClosedError('Closed connection', { host: '127.0.0.1', port: 9092 }), plain, false)).toBeUndefined();
    // With TLS and SASL both on, a closed connection has no hint to give.
    expect(accessError(new KafkaJSConnectionClosedError('Closed connection', { host: '127.0.0.1', port: 9092 }), secured, true)).toBeUndefined();
  });

  it('shows a user name that is not printable safely', () => {
    const settings: AccessSettings = { ...secured, sasl: { mechanism: 'plain', username: 'a\nb\u001b[2J' } };
    const explained = accessError(new KafkaJSSASLAuthenticationError('SASL PLAIN authentication failed: Authentication failed: Invalid username or password'), settings);
    expect(explained?.message).toBe("Kafka refused the SASL credentials of kafka.sasl.username 'a?b?[2J' (PLAIN): authentication failed");
  });
});
