import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeEvent, makeEvent, type RefsUpdatedEvent } from '../../src/events/index.js';
import type { BoundedProducer, OutgoingRecord } from '../../src/kafka/index.js';
import { silentLogger } from '../../src/log/index.js';
import { drainSpool, flushSpool, publishRecords, Spool, SpoolError, SpoolLock, type Publishing } from '../../src/publish/index.js';

const record = (repo: string): OutgoingRecord => ({
  topic: 'git.ref-updates',
  key: repo,
  value: encodeEvent(
    makeEvent<RefsUpdatedEvent>({ kind: 'refs-updated', repo, origin: 'primary', refs: [{ ref: 'refs/heads/main', old: '0'.repeat(40), new: 'a'.repeat(40) }] }),
  ),
});

/** A spool whose disk fails to read one file (EIO, EACCES, EMFILE: nothing wrong with the event). */
class FlakySpool extends Spool {
  failing = new Set<string>();
  override async read(name: string) {
    if (this.failing.has(name)) throw new SpoolError(`cannot read the spooled event ${name}: EIO: i/o error`);
    return super.read(name);
  }
}

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'pullrep-drain-'));
  const spool = new FlakySpool(dir);
  const sent: string[] = [];
  const producer = {
    async connect() {},
    async send(records: OutgoingRecord[], _deadline: number, acked?: (count: number) => Promise<void>) {
      sent.push(...records.map((r) => r.key));
      await acked?.(records.length);
    },
  } as unknown as BoundedProducer;
  const publishing: Publishing = {
    spool,
    lock: new SpoolLock({ path: join(dir, '.drain.lock'), staleMs: 60_000 }),
    producer: () => producer,
    logger: silentLogger(),
    timeoutMs: 1000,
    close: async () => undefined,
  };
  return { dir, spool, sent, publishing };
}

describe('draining the spool', () => {
  it('moves aside only files that are not events, and sends the rest in order', async () => {
    const { dir, spool, sent, publishing } = await setup();
    await spool.append([record('a')]);
    await writeFile(join(dir, '000000000000002-000001-1-00000000.event'), '{"not":"an event"}');
    await mkdir(join(dir, '000000000000003-000001-1-00000000.event'));
    await spool.append([record('b')]);
    const result = await drainSpool(publishing, { deadline: Date.now() + 1000 });
    expect(sent).toEqual(['a', 'b']);
    const aside = ['000000000000002-000001-1-00000000.event.invalid', '000000000000003-000001-1-00000000.event.invalid'];
    expect(result).toEqual({ sent: 2, quarantined: aside });
    expect((await readdir(dir)).sort()).toEqual(aside);
  });

  it('passes over a valid event it cannot read, leaving it in place, sends the rest, then says why', async () => {
    const { dir, spool, sent, publishing } = await setup();
    const [first] = await spool.append([record('a')]);
    const [second] = await spool.append([record('b')]);
    if (!first || !second) throw new Error('nothing spooled');
    spool.failing.add(first);
    await expect(drainSpool(publishing, { deadline: Date.now() + 1000 })).rejects.toThrow(/EIO/);
    expect(sent).toEqual(['b']);
    expect(await spool.names()).toEqual([first]);
    await expect(flushSpool(publishing)).rejects.toThrow(/^cannot read the spooled event .*: EIO: i\/o error; 1 file still waiting in /);
    expect((await readdir(dir)).filter((f) => f.endsWith('.invalid'))).toEqual([]);
    spool.failing.clear();
    expect(await flushSpool(publishing)).toEqual({ sent: 1, quarantined: [] });
    expect(sent).toEqual(['b', 'a']);
  });

  it('ends (instead of reading the same file forever) when an invalid file cannot be moved aside', async () => {
    const { dir, spool, sent, publishing } = await setup();
    spool.quarantine = async () => {
      throw new Error('EACCES: permission denied');
    };
    await writeFile(join(dir, '000000000000002-000001-1-00000000.event'), 'garbage');
    await spool.append([record('a')]);
    await expect(flushSpool(publishing)).rejects.toThrow(/is invalid: .*; and it cannot be moved aside: EACCES: permission denied; 1 file still waiting/);
    expect(sent).toEqual(['a']);
  });

  it('keeps the records spooled, saying why, when the drain lock cannot be taken', async () => {
    const { dir, spool, sent, publishing } = await setup();
    await writeFile(join(dir, 'not-a-directory'), '');
    const lock = new SpoolLock({ path: join(dir, 'not-a-directory', '.drain.lock'), staleMs: 60_000 });
    const result = await publishRecords([record('a')], { ...publishing, lock });
    expect(result).toMatchObject({ delivered: 0, spooled: 1, waiting: 1 });
    expect(result.error).toBeInstanceOf(SpoolError);
    expect(result.error?.message).toMatch(/^cannot take the drain lock .*not-a-directory.*: ENOTDIR/);
    expect(sent).toEqual([]);
    expect(await spool.names()).toHaveLength(1);
  });
});
