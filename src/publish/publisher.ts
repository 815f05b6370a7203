import type { BoundedProducer, OutgoingRecord } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { drainSpool } from './drain.js';
import { SpoolError } from './errors.js';
import type { Spool, SpoolFile } from './spool.js';
import type { SpoolLock } from './spool-lock.js';

export interface PublisherDeps {
  spool: Spool;
  lock: SpoolLock;
  producer: () => BoundedProducer;
  logger: Logger;
  /** publish.timeoutMs: the whole publish, connection included, fits in it. */
  timeoutMs: number;
  now?: () => number;
}

export interface PublishResult {
  /** Records of this call the broker acknowledged. */
  delivered: number;
  /** Records of this call left in the spool. */
  spooled: number;
  /** Everything waiting in the spool afterwards (0 when nothing of ours was left). */
  waiting: number;
  /** Why something was left, when it was. */
  error?: Error;
}

/**
 * Publishes records at least once. Each is first written to the spool (durably), then the spool
 * is drained in order (older events first) by whichever process holds the drain lock. What the
 * broker did not acknowledge within the time allowed stays in the spool for the next publish or
 * `pullrep spool flush`. A crash at any point leaves the record either delivered or spooled.
 */
export async function publishRecords(records: OutgoingRecord[], deps: PublisherDeps): Promise<PublishResult> {
  const now = deps.now ?? Date.now;
  const deadline = now() + deps.timeoutMs;
  // Connecting takes longest; it runs while the records are written to the spool.
  deps.producer().connect(deadline).catch(() => undefined);
  let own: string[];
  try {
    own = await deps.spool.append(records);
  } catch (err) {
    return sendWithoutSpool(records, deps, deadline, err as Error);
  }
  const ownLeft = async () => (await Promise.all(own.map((name) => deps.spool.has(name)))).filter(Boolean).length;

  let error: Error | undefined;
  // Another process draining may deliver our records too; then there is nothing left to do.
  const locked = await deps.lock.acquire(deadline, async () => (await ownLeft()) === 0).catch((err: unknown) => {
    error = err as Error; // the records are safe in the spool; say why they stay there
    return false;
  });
  if (locked) {
    try {
      if ((await ownLeft()) > 0) await drainSpool(deps, { deadline, passes: 1, written: writtenEntries(own, records, now()) });
    } catch (err) {
      error = err as Error;
    } finally {
      await deps.lock.release();
    }
  }
  const spooled = await ownLeft();
  if (spooled > 0 && !error) error = new Error('another process kept the spool busy until the time ran out');
  const waiting = spooled > 0 ? (await deps.spool.names()).length : 0;
  return { delivered: own.length - spooled, spooled, waiting, ...(spooled > 0 && error ? { error } : {}) };
}

/** The records this process spooled, by file name, as the drain sends them. */
function writtenEntries(names: string[], records: OutgoingRecord[], now: number): Map<string, SpoolFile> {
  const entries = new Map<string, SpoolFile>();
  names.forEach((name, i) => {
    const record = records[i];
    if (record) entries.set(name, { name, writtenAt: now, repo: record.key, events: [], records: [record] });
  });
  return entries;
}

/** The spool cannot be written (disk full, permissions): still try to deliver, directly. */
async function sendWithoutSpool(records: OutgoingRecord[], deps: PublisherDeps, deadline: number, spoolError: Error): Promise<PublishResult> {
  try {
    await deps.producer().send(records, deadline);
    deps.logger.warn({ err: spoolError.message }, 'spool not writable; events sent directly');
    return { delivered: records.length, spooled: 0, waiting: 0 };
  } catch (err) {
    throw new SpoolError(`${spoolError.message}; and Kafka did not acknowledge either (${(err as Error).message}): events lost`, {
      cause: err,
    });
  }
}
