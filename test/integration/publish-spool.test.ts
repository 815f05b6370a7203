import { createServer, type AddressInfo, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RefsUpdatedEvent } from '../../src/events/index.js';
import { makeBareRepo, WorkClone } from '../helpers/git.js';
import { waitFor } from '../helpers/wait.js';
import { cliPath, deadBrokerEnv, gitRun, installHook, makePrimary, minimalEnv, primaryWithRepo, pullrep, topicEvents } from './publish-helpers.js';

describe('when Kafka cannot be reached', () => {
  it('the push succeeds, the event is spooled with one warning, and later publishes and flushes deliver in order', async () => {
    const { primary, kafka, bare } = await primaryWithRepo('spooled.git');
    await installHook(primary, bare);
    const work = await WorkClone.of(bare);
    const deadBroker = await deadBrokerEnv();
    const down = minimalEnv(primary.base, deadBroker);
    const up = minimalEnv(primary.base);
    const pushed: string[] = [];
    const push = async (env: NodeJS.ProcessEnv) => {
      pushed.push(await work.commit());
      const started = Date.now();
      const result = await gitRun(['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], work.dir, env);
      expect(result.code, result.stderr).toBe(0);
      return { ...result, ms: Date.now() - started };
    };
    const spoolList = async () => {
      const r = await pullrep(['--config', primary.configFile, 'spool', 'list', '--json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Array<{ repo: string; refs: number; kind: string; ageMs: number }>;
    };

    // Two pushes while the broker is down: both succeed quickly, each says so in exactly one line.
    for (let i = 0; i < 2; i++) {
      const r = await push(down);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^remote: pullrep: warning: 1 event of spooled\.git spooled: Kafka at 127\.0\.0\.1:\d+ cannot be reached: connection refused; \d waiting in /);
      // Bounded by the 1500 ms publish timeout plus git and a cold CLI start, far below the configuration
      // file's 10 s and the client's own retries and 30 s request timeout.
      expect(r.ms).toBeLessThan(1500 + 6000);
    }
    expect((await spoolList()).map((i) => [i.repo, i.refs, i.kind])).toEqual([
      ['spooled.git', 1, 'refs-updated'],
      ['spooled.git', 1, 'refs-updated'],
    ]);
    const table = await pullrep(['--config', primary.configFile, 'spool', 'list']);
    expect(table.stdout).toMatch(/^2 files waiting: 0 pushes, 2 events$/m);

    // The broker is back: the next push sends the spooled events first, then its own.
    const back = await push(up);
    expect(back.stderr).toBe('');
    expect(await spoolList()).toEqual([]);

    // Down again; flush against the dead broker fails and keeps the event; against the live one it delivers.
    await push(down);
    const failed = await pullrep(['--config', primary.configFile, 'spool', 'flush'], { env: deadBroker });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/^pullrep: Kafka did not acknowledge .*1 file still waiting in .*\n$/);
    expect(await spoolList()).toHaveLength(1);
    const flushed = await pullrep(['--config', primary.configFile, 'spool', 'flush']);
    expect(flushed.code, flushed.stderr).toBe(0);
    expect(flushed.stdout).toBe('1 file sent\n');
    expect(await spoolList()).toEqual([]);

    const events = await topicEvents(kafka, primary.topic);
    const news = events.map((e) => (e.event as RefsUpdatedEvent).refs.map((r) => r.new));
    expect(news).toEqual(pushed.map((c) => [c]));
    expect(events.every((e) => e.key === 'spooled.git')).toBe(true);
  });

  it('spool list shows a file that is not an event on one row, and flush moves it aside', async () => {
    const { primary } = await primaryWithRepo('listed.git');
    const spoolDir = join(primary.root, '.pullrep-spool');
    await mkdir(spoolDir, { recursive: true });
    await writeFile(join(spoolDir, '000000000000001-000001-1-00000000.event'), 'not\njson\n');
    const list = await pullrep(['--config', primary.configFile, 'spool', 'list']);
    expect(list.code, list.stderr).toBe(0);
    const rows = list.stdout.split('\n').filter(Boolean);
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(/ INVALID 000000000000001-000001-1-00000000\.event: spooled event .* is invalid: /);
    expect(rows[2]).toBe('0 files waiting: 0 pushes, 0 events; 1 invalid (never sent)');
    const flushed = await pullrep(['--config', primary.configFile, 'spool', 'flush']);
    expect(flushed).toMatchObject({ code: 0, stdout: '0 files sent\n' });
    expect(flushed.stderr).toMatch(/invalid spooled event moved aside: 000000000000001-000001-1-00000000\.event\.invalid\n$/);
    // What was moved aside stays visible.
    const after = (await pullrep(['--config', primary.configFile, 'spool', 'list'])).stdout.split('\n').filter(Boolean);
    expect(after[1]).toMatch(/ INVALID 000000000000001-000001-1-00000000\.event\.invalid: refused as invalid and moved aside: never sent; /);
    expect(after[2]).toBe('0 files waiting: 0 pushes, 0 events; 1 invalid (never sent)');
  });

  it('publish exits promptly even when the broker accepts connections and never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      const primary = await makePrimary([`127.0.0.1:${port}`], { timeoutMs: 800 });
      const bare = await makeBareRepo(primary.root, 'blackhole.git');
      const started = Date.now();
      const r = await pullrep(['--config', primary.configFile, 'publish'], {
        cwd: bare,
        input: `${'0'.repeat(40)} ${'a'.repeat(40)} refs/heads/main\n`,
      });
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^pullrep: warning: 1 event of blackhole\.git spooled: Kafka did not acknowledge within \d+ ms; [^\n]*\n$/);
      expect(sockets.size).toBeGreaterThan(0);
      // Bounded by the 800 ms publish timeout plus a cold CLI start, far below the 30 s request timeout
      // a broker that never answers would otherwise be given.
      expect(Date.now() - started).toBeLessThan(800 + 8000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('still delivers directly when the spool cannot be written', async () => {
    const { primary, kafka, bare } = await primaryWithRepo('nospool.git');
    const blocker = join(primary.base, 'not-a-directory');
    await writeFile(blocker, '');
    const r = await pullrep(['--config', primary.configFile, 'publish'], {
      cwd: bare,
      input: `${'0'.repeat(40)} ${'a'.repeat(40)} refs/heads/main\n`,
      env: { PULLREP_PUBLISH_SPOOL_DIR: join(blocker, 'spool') },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/spool not writable; events sent directly/);
    const events = await topicEvents(kafka, primary.topic);
    expect(events.map((e) => e.key)).toEqual(['nospool.git']);
  });

  it('loses nothing when publish is killed before Kafka answered', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const { primary, kafka, bare } = await primaryWithRepo('killed.git');
      const child = spawn(process.execPath, [cliPath, '--config', primary.configFile, 'publish'], {
        cwd: bare,
        env: { PATH: process.env.PATH, PULLREP_KAFKA_BROKERS: `127.0.0.1:${(silent.address() as AddressInfo).port}`, PULLREP_PUBLISH_TIMEOUT_MS: '60000' },
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      child.stdin.end(`${'0'.repeat(40)} ${'b'.repeat(40)} refs/heads/main\n`);
      const spoolDir = join(primary.root, '.pullrep-spool');
      // A spooled event, not the temporary file it is written to before its rename (a kill then
      // would come before the push was spooled at all).
      await waitFor(async () => sockets.size > 0 && (await readdir(spoolDir).catch(() => [])).some((f) => f.endsWith('.event') && !f.startsWith('.')), {
        what: 'publish waiting for the broker with its event spooled',
      });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const before = await readdir(spoolDir);
      const flushed = await pullrep(['--config', primary.configFile, 'spool', 'flush']);
      // Should this ever fail, say what the spool held and what flush said.
      expect(flushed.stdout, `spool before flush: ${JSON.stringify(before)}; flush stderr: ${flushed.stderr}; after: ${JSON.stringify(await readdir(spoolDir).catch(() => []))}`).toBe('1 file sent\n');
      const events = await topicEvents(kafka, primary.topic);
      expect(events.map((e) => [e.key, (e.event as RefsUpdatedEvent).refs[0]?.new])).toEqual([['killed.git', 'b'.repeat(40)]]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
