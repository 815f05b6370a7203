import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { compileOptions, ConfigError, loadConfig, readCaFile } from '../../src/config/index.js';
import { tempDir } from '../helpers/git.js';

const run = promisify(execFile);

async function configFile(content: unknown): Promise<string> {
  const file = join(await tempDir('pullrep-config-'), 'pullrep.json');
  await writeFile(file, JSON.stringify(content));
  return file;
}

describe('kafka.ssl', () => {
  it('is an object of enabled and ca, and still takes the old switch from a file, the environment and overrides', async () => {
    expect(loadConfig({ env: {} }).config.kafka.ssl).toEqual({ enabled: false, ca: '' });
    const file = await configFile({ kafka: { ssl: true } });
    expect(loadConfig({ file, env: {} }).config.kafka.ssl).toEqual({ enabled: true, ca: '' });
    const nested = await configFile({ kafka: { ssl: { enabled: true, ca: '/etc/pullrep/ca.pem' } } });
    expect(loadConfig({ file: nested, env: {} }).config.kafka.ssl).toEqual({ enabled: true, ca: '/etc/pullrep/ca.pem' });
    const old = loadConfig({ env: { PULLREP_KAFKA_SSL: 'yes' } });
    expect(old.config.kafka.ssl.enabled).toBe(true);
    expect(old.warnings).toEqual([]);
    expect(loadConfig({ env: { PULLREP_KAFKA_SSL_ENABLED: 'on', PULLREP_KAFKA_SSL_CA: '/ca.pem' } }).config.kafka.ssl).toEqual({ enabled: true, ca: '/ca.pem' });
    expect(loadConfig({ env: {}, overrides: { 'kafka.ssl': true } }).config.kafka.ssl.enabled).toBe(true);
  });

  it('names the new key for a bad value of the old one, and says when the old variable is ignored', async () => {
    expect(() => loadConfig({ env: { PULLREP_KAFKA_SSL: 'maybe' } })).toThrow(/kafka\.ssl\.enabled.*true or false/);
    const file = await configFile({ kafka: { ssl: 'maybe' } });
    expect(() => loadConfig({ file, env: {} })).toThrow(/kafka\.ssl\.enabled/);
    const both = loadConfig({ env: { PULLREP_KAFKA_SSL: 'true', PULLREP_KAFKA_SSL_ENABLED: 'false' } });
    expect(both.config.kafka.ssl.enabled).toBe(false);
    expect(both.warnings).toEqual(['environment variable PULLREP_KAFKA_SSL is ignored: PULLREP_KAFKA_SSL_ENABLED is set']);
  });

  it('turns TLS on when kafka.ssl.ca is set', () => {
    const { config } = loadConfig({ env: { PULLREP_KAFKA_SSL_CA: '/etc/pullrep/ca.pem' } });
    expect(compileOptions(config).kafka.ssl).toEqual({ enabled: true, ca: '/etc/pullrep/ca.pem' });
    expect(compileOptions(loadConfig({ env: {} }).config).kafka.ssl.enabled).toBe(false);
  });
});

describe('kafka.ssl.ca', () => {
  it('reads every PEM certificate of the file', async () => {
    const dir = await tempDir('pullrep-ca-');
    for (const name of ['a', 'b']) {
      await run('openssl', ['req', '-x509', '-new', '-nodes', '-newkey', 'rsa:2048', '-days', '1', '-subj', `/CN=${name}`, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`)]);
    }
    const { readFile } = await import('node:fs/promises');
    const bundle = join(dir, 'bundle.pem');
    await writeFile(bundle, `# two CAs\n${await readFile(join(dir, 'a.pem'), 'utf8')}\n${await readFile(join(dir, 'b.pem'), 'utf8')}`);
    const certificates = readCaFile(bundle);
    expect(certificates).toHaveLength(2);
    expect(certificates[0]).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----$/);
  });

  it('refuses a file that is missing, not PEM or not a certificate, naming the key', async () => {
    const dir = await tempDir('pullrep-ca-');
    expect(() => readCaFile(join(dir, 'missing.pem'))).toThrow(ConfigError);
    expect(() => readCaFile(join(dir, 'missing.pem'))).toThrow(`kafka.ssl.ca: cannot read ${join(dir, 'missing.pem')}: no such file`);
    expect(() => readCaFile(dir)).toThrow(`kafka.ssl.ca: cannot read ${dir}: it is a directory`);
    const text = join(dir, 'text.pem');
    await writeFile(text, 'not a certificate\n');
    expect(() => readCaFile(text)).toThrow(`kafka.ssl.ca: ${text} holds no PEM certificate`);
    const garbage = join(dir, 'garbage.pem');
    await writeFile(garbage, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    expect(() => readCaFile(garbage)).toThrow(new RegExp(`^kafka\\.ssl\\.ca: certificate 1 of ${garbage} cannot be read: `));
  });
});

describe('kafka.sasl', () => {
  it('needs a user name and a password once a mechanism is set, and never shows the password', () => {
    expect(() => loadConfig({ env: { PULLREP_KAFKA_SASL_MECHANISM: 'scram-sha-512' } })).toThrow(
      'kafka.sasl.username must be set when kafka.sasl.mechanism is (PULLREP_KAFKA_SASL_USERNAME); kafka.sasl.password must be set when kafka.sasl.mechanism is (PULLREP_KAFKA_SASL_PASSWORD)',
    );
    const secret = 'b1d3c0ffee-secret';
    const loaded = loadConfig({ env: { PULLREP_KAFKA_SASL_MECHANISM: 'scram-sha-512', PULLREP_KAFKA_SASL_USERNAME: 'pullrep', PULLREP_KAFKA_SASL_PASSWORD: secret } });
    expect(loaded.config.kafka.sasl.password).toBe(secret);
    expect(JSON.stringify(loaded.redacted())).not.toContain(secret);
    expect(JSON.stringify(loaded.redacted())).toContain('"username":"pullrep"');
  });
});
