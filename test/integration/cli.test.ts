import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pullrep as runPullrep } from '../helpers/cli.js';

/** `pullrep <args>` with nothing but PATH and the given variables in its environment. */
function pullrep(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runPullrep(args, { env });
}

describe('pullrep CLI', () => {
  it('prints help and version', async () => {
    const help = await pullrep(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: pullrep/);
    expect(help.stdout).toMatch(/config/);
    const version = await pullrep(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('config check passes on defaults and fails naming the key and value', async () => {
    expect((await pullrep(['config', 'check'])).code).toBe(0);
    const bad = await pullrep(['config', 'check'], { PULLREP_KAFKA_BROKERS: 'nohost', PULLREP_RETRY_MULTIPLIER: '0' });
    expect(bad.code).not.toBe(0);
    const lines = bad.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^pullrep: .*kafka\.brokers.*nohost/);
    expect(lines[0]).toMatch(/retry\.multiplier/);
  });

  it('config print redacts secrets', async () => {
    const out = await pullrep(['config', 'print'], { PULLREP_PRIMARY_PASSWORD: 'hunter2-secret', PULLREP_REPLICA_NAME: 'eu-1' });
    expect(out.code).toBe(0);
    const printed = JSON.parse(out.stdout) as { replica: { name: string }; primary: { password: string } };
    expect(printed.replica.name).toBe('eu-1');
    expect(out.stdout).not.toContain('hunter2-secret');
  });

  it('reads a configuration file given with --config', async () => {
    const { writeFile } = await import('node:fs/promises');
    const { tempDir } = await import('../helpers/git.js');
    const file = join(await tempDir(), 'pullrep.json');
    await writeFile(file, JSON.stringify({ replica: { name: 'from-file' } }));
    const out = await pullrep(['--config', file, 'config', 'print']);
    expect((JSON.parse(out.stdout) as { replica: { name: string } }).replica.name).toBe('from-file');
    const missing = await pullrep(['--config', join(file, 'nope.json'), 'config', 'check']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/configuration file not found/);
  });

  it('config check --role checks what the role needs, naming each missing key once', async () => {
    const replica = await pullrep(['config', 'check', '--role', 'replica']);
    expect(replica.code).toBe(1);
    expect(replica.stderr.trim()).toBe('pullrep: replica.root must be set (PULLREP_REPLICA_ROOT); primary.url must be set (PULLREP_PRIMARY_URL)');
    const primary = await pullrep(['config', 'check', '--role', 'primary']);
    expect(primary.stderr.trim()).toBe('pullrep: primary.root must be set (PULLREP_PRIMARY_ROOT)');
    const ok = await pullrep(['config', 'check', '--role', 'replica'], { PULLREP_REPLICA_ROOT: '/srv/r', PULLREP_PRIMARY_URL: 'https://git.example.com/{repo}' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('configuration is valid for the replica role\n');
  });

  it('reports a PULLREP_ variable that matches no key, with the nearest one; config check fails on it', async () => {
    const out = await pullrep(['config', 'check'], { PULLREP_RETRY_MAX_DELAY: '1000', PULLREP_KAFKA_PORT: '9092' });
    expect(out.stderr).toContain("pullrep: warning: environment variable PULLREP_RETRY_MAX_DELAY is not a configuration key; did you mean 'PULLREP_RETRY_MAX_DELAY_MS'?");
    // PULLREP_KAFKA_PORT belongs to the local broker script, not to a key: not reported.
    expect(out.stderr).not.toContain('PULLREP_KAFKA_PORT');
    expect(out.code).toBe(1);
    const print = await pullrep(['config', 'print'], { PULLREP_RETRY_MAX_DELAY: '1000' });
    expect(print.code).toBe(0);
    expect(print.stderr).toContain('did you mean');
  });

  it('refuses an unknown key in a configuration file, with the nearest one', async () => {
    const { writeFile } = await import('node:fs/promises');
    const { tempDir } = await import('../helpers/git.js');
    const file = join(await tempDir(), 'pullrep.json');
    await writeFile(file, JSON.stringify({ retry: { maxDelay: 1000 } }));
    const out = await pullrep(['--config', file, 'config', 'check']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/'retry\.maxDelay' is not a configuration key; did you mean 'retry\.maxDelayMs'\?/);
  });

  it('verify --local-primary without primary.root fails once, before any repository', async () => {
    const out = await pullrep(['verify', '--local-primary', 'a.git', 'b.git'], { PULLREP_REPLICA_ROOT: '/nonexistent' });
    expect(out.code).toBe(1);
    expect(out.stderr.trim()).toBe('pullrep: primary.root must be set (PULLREP_PRIMARY_ROOT)');
  });

  it('a broker that does not answer: one line naming kafka.brokers and the cause, at once', async () => {
    const { createServer } = await import('node:net');
    // A port nothing listens on.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    for (const command of [['status'], ['failed', 'list'], ['topics', 'list']]) {
      const started = Date.now();
      const out = await pullrep(command, { PULLREP_KAFKA_BROKERS: `127.0.0.1:${port}` });
      expect(out.code).toBe(1);
      expect(out.stderr).toBe(`pullrep: cannot reach Kafka at 127.0.0.1:${port} (kafka.brokers): connection refused\n`);
      // The client's own retries took 7-11 s; a refused connection is known at once.
      expect(Date.now() - started).toBeLessThan(6000);
    }
    // The long-running replica too: one line, not the client's retries and stack traces.
    const replicaRoot = await (await import('../helpers/git.js')).tempDir('pullrep-replica-');
    const replica = await pullrep(['replica'], {
      PULLREP_KAFKA_BROKERS: `127.0.0.1:${port}`,
      PULLREP_REPLICA_ROOT: replicaRoot,
      PULLREP_PRIMARY_URL: 'file:///nowhere/{repo}',
      PULLREP_HTTP_PORT: '0',
    });
    expect(replica.code).toBe(1);
    expect(replica.stderr).toBe(`pullrep: cannot reach Kafka at 127.0.0.1:${port} (kafka.brokers): connection refused\n`);
    const unknown = await pullrep(['status'], { PULLREP_KAFKA_BROKERS: 'no-such-host.invalid:9092' });
    expect(unknown.stderr).toBe('pullrep: cannot reach Kafka at no-such-host.invalid:9092 (kafka.brokers): host not found\n');
  });

  it('rejects an unknown command with a non-zero status', async () => {
    const out = await pullrep(['no-such-command']);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/^pullrep: unknown command 'no-such-command'\n/);
    const missing = await pullrep(['failed', 'show']);
    expect(missing.stderr).toMatch(/^pullrep: missing required argument 'id'\n/);
  });
});
