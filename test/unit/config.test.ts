import { describe, expect, it } from 'vitest';
import { ConfigError, envName, loadConfig } from '../../src/config/index.js';

describe('configuration', () => {
  it('has defaults an operator can run with', () => {
    const { config } = loadConfig({ env: {} });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.topics.events).toBe('git.ref-updates');
    expect(config.retry).toMatchObject({ stages: 4, initialDelayMs: 30000, multiplier: 10, maxDelayMs: 10800000 });
  });

  it('maps keys to PULLREP_ environment variables in upper snake case', () => {
    expect(envName('kafka.brokers')).toBe('PULLREP_KAFKA_BROKERS');
    expect(envName('kafka.clientId')).toBe('PULLREP_KAFKA_CLIENT_ID');
    expect(envName('retry.maxRetryPeriodMs')).toBe('PULLREP_RETRY_MAX_RETRY_PERIOD_MS');
    const { config } = loadConfig({
      env: { PULLREP_KAFKA_BROKERS: 'k1:9092, k2:9093', PULLREP_KAFKA_CLIENT_ID: 'x', PULLREP_RETRY_STAGES: '2' },
    });
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect(config.kafka.clientId).toBe('x');
    expect(config.retry.stages).toBe(2);
  });

  it.each([
    [{ PULLREP_KAFKA_BROKERS: 'no-port' }, /kafka\.brokers.*no-port/],
    [{ PULLREP_RETRY_STAGES: '-1' }, /retry\.stages/],
    [{ PULLREP_RETRY_MULTIPLIER: '0.5' }, /retry\.multiplier/],
    [{ PULLREP_TOPICS_EVENTS: 'bad topic!' }, /topics\.events/],
    [{ PULLREP_REPLICA_NAME: '-x' }, /replica\.name/],
    [{ PULLREP_LOG_LEVEL: 'loud' }, /log\.level/],
    [{ PULLREP_RETRY_MAX_DELAY_MS: '10' }, /retry\.maxDelayMs cannot be less than retry\.initialDelayMs/],
    [{ PULLREP_PRIMARY_URL: 'https://git.example.com/' }, /primary\.url must contain \{repo\}/],
    [{ PULLREP_PRIMARY_URL: 'ext::sh -c {repo}' }, /primary\.url must use https, http, ssh or file/],
    [{ PULLREP_PRIMARY_URL: 'https://token123@git.example.com/{repo}' }, /primary\.url must not carry credentials/],
  ])('rejects %o naming the key', (env, message) => {
    expect(() => loadConfig({ env })).toThrow(ConfigError);
    expect(() => loadConfig({ env })).toThrow(message);
  });

  it('never puts a secret in an error or in the printed configuration', () => {
    const secret = 's3cr3t-value';
    let message = '';
    try {
      loadConfig({ env: { PULLREP_PRIMARY_URL: `https://user:${secret}@git.example.com/{repo}` } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/primary\.url must not carry credentials/);
    expect(message).not.toContain(secret);

    const loaded = loadConfig({ env: { PULLREP_PRIMARY_PASSWORD: secret, PULLREP_KAFKA_SASL_PASSWORD: secret } });
    expect(loaded.config.primary.password).toBe(secret);
    expect(JSON.stringify(loaded.redacted())).not.toContain(secret);
  });

  it('rejects unknown keys in a file and a missing file', () => {
    expect(() => loadConfig({ file: '/nonexistent/pullrep.json' })).toThrow(/configuration file not found/);
  });
});
