import { describe, expect, it } from 'vitest';
import { compileOptions, ConfigError, envName, loadConfig, requireKeys, requireRole } from '../../src/config/index.js';

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

  it('names the nearest key for an unknown one, and keeps other PULLREP_ variables of the scripts quiet', () => {
    const { warnings } = loadConfig({ env: { PULLREP_REPLICA_ROTO: '/srv', PULLREP_CONFIG: 'x.json', PULLREP_KAFKA_NODES: '3', PULLREP_ZZZZZZZZZZZZZZZZ: '1' } });
    expect(warnings).toEqual([
      "environment variable PULLREP_REPLICA_ROTO is not a configuration key; did you mean 'PULLREP_REPLICA_ROOT'?",
      'environment variable PULLREP_ZZZZZZZZZZZZZZZZ is not a configuration key',
    ]);
    expect(() => loadConfig({ overrides: { 'replica.rot': '/srv' } })).toThrow(/'replica\.rot' is not a configuration key; did you mean 'replica\.root'\?/);
  });

  it('requires keys with one message naming each key and its variable', () => {
    const { config } = loadConfig({ env: {} });
    expect(() => requireKeys(config, ['replica.root', 'primary.url'])).toThrow(
      'replica.root must be set (PULLREP_REPLICA_ROOT); primary.url must be set (PULLREP_PRIMARY_URL)',
    );
    expect(() => requireKeys(config, ['kafka.brokers'])).not.toThrow();
  });

  it('compiles each feature its options: durations in ms, the spool under primary.root unless set', () => {
    const options = compileOptions(loadConfig({ env: { PULLREP_PRIMARY_ROOT: '/srv/git/', PULLREP_REPLICA_FETCH_TIMEOUT_MS: '5000' } }).config);
    expect(options.publish.spoolDir).toBe('/srv/git/.pullrep-spool');
    expect(options.fetch.gitTimeoutMs).toBe(5000);
    expect(options.verify.gitTimeoutMs).toBe(5000);
    expect(compileOptions(loadConfig({ env: { PULLREP_PUBLISH_SPOOL_DIR: '/var/spool/pullrep' } }).config).publish.spoolDir).toBe('/var/spool/pullrep');
    expect(compileOptions(loadConfig({ env: {} }).config).publish.spoolDir).toBe('');
  });

  it.each([
    ['config/replica.example.json', 'replica'],
    ['config/primary.example.json', 'primary'],
  ] as const)('accepts the example file %s, with what the %s role needs', (file, role) => {
    const { config, warnings } = loadConfig({ file: new URL(`../../${file}`, import.meta.url).pathname, env: {} });
    expect(warnings).toEqual([]);
    expect(() => requireRole(config, role)).not.toThrow();
  });
});

describe('errors in logs', () => {
  it('carry type, message and causes; the stack only at debug', async () => {
    const { errorSerializer } = await import('../../src/log/logger.js');
    const err = Object.assign(new Error('git fetch failed', { cause: new Error('connection refused') }), { kind: 'unreachable' });
    expect(errorSerializer(false)(err)).toEqual({ type: 'Error', message: 'git fetch failed', kind: 'unreachable', causes: ['connection refused'] });
    expect((errorSerializer(true)(err) as { stack: string }).stack).toContain('git fetch failed');
    expect(errorSerializer(false)('not an error')).toBe('not an error');
  });
});
