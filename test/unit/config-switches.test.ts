import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';

const load = (env: NodeJS.ProcessEnv) => loadConfig({ env }).config;

describe('replica switches in the configuration', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['ON', true],
    ['false', false],
    ['0', false],
    ['no', false],
    ['off', false],
  ])('read %s from the environment as %s', (text, value) => {
    const config = load({ PULLREP_REPLICA_APPLY_DELETES: text, PULLREP_REPLICA_TRANSACTIONS: text, PULLREP_KAFKA_SSL: text });
    expect(config.replica.applyDeletes).toBe(value);
    expect(config.replica.transactions).toBe(value);
    expect(config.kafka.ssl.enabled).toBe(value);
  });

  it.each(['PULLREP_REPLICA_APPLY_DELETES', 'PULLREP_REPLICA_TRANSACTIONS'])('refuse anything else in %s, naming the key', (name) => {
    expect(() => load({ [name]: 'maybe' })).toThrow(/replica\.(applyDeletes|transactions).*true or false/);
  });

  it('keep booleans from a file', () => {
    expect(loadConfig({ overrides: { 'replica.applyDeletes': true } }).config.replica.applyDeletes).toBe(true);
    expect(loadConfig({ env: {} }).config.replica.applyDeletes).toBe(false);
  });
});
