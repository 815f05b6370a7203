import type { BoundedProducer } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { InvalidSpoolFileError, SpoolError } from './errors.js';
import type { OutgoingRecord } from '../kafka/index.js';
import type { Spool, SpoolFile } from './spool.js';
import type { SpoolLock } from './spool-lock.js';

export interface DrainDeps {
  spool: Spool;
  /** The lock this process holds while draining; refreshed as batches are acknowledged. */
  lock: SpoolLock;
  producer: () => BoundedProducer;
  logger: Logger;
}

export interface DrainOptions {
  /** Epoch ms by which every send must be acknowledged. */
  deadline: number | (() => number);
  /** How many listings of the spool to work through; publish takes one, flush goes on until empty. */
  passes?: number;
  /** Events read and sent together. */
  batchSize?: number;
  /**
   * Spool files this process has just written, with their records (validated when they were
   * encoded): sent without being read back. Every other file is read and validated.
   */
  written?: ReadonlyMap<string, SpoolFile>;
  /** Hears of every file delivered (all its records acknowledged), in order. */
  delivered?: (file: SpoolFile) => void;
  /** Asked between batches: true ends the drain there (shutdown); what is left stays. */
  stop?: () => boolean;
  /**
   * Names of files already reported as unreadable: not logged again (a long-running drainer
   * meets them on every pass). Files reported now are added.
   */
  reported?: Set<string>;
}

export interface DrainResult {
  /** Spool files delivered. */
  sent: number;
  quarantined: string[];
}

/**
 * Sends the spooled events in name order and deletes each one once the broker acknowledged it.
 * Stops at the first failure to send (what follows stays, so order per repository is kept) and
 * throws it. Files that are not valid events are moved aside, not sent. A file that cannot be read
 * (permissions, I/O) stays where it is and is passed over, so it cannot hold up the others; once
 * the rest is sent, the drain throws its SpoolError.
 */
export async function drainSpool(deps: DrainDeps, options: DrainOptions): Promise<DrainResult> {
  const { spool, lock, logger } = deps;
  const result: DrainResult = { sent: 0, quarantined: [] };
  const deadline = typeof options.deadline === 'function' ? options.deadline : () => options.deadline as number;
  const batchSize = options.batchSize ?? 500;
  const passedOver = new Map<string, Error>();
  const stop = options.stop ?? (() => false);
  for (let pass = 0; pass < (options.passes ?? Number.POSITIVE_INFINITY) && !stop(); pass++) {
    const names = (await spool.names()).filter((name) => !passedOver.has(name));
    if (names.length === 0) break;
    for (let i = 0; i < names.length && !stop(); i += batchSize) {
      const files: SpoolFile[] = [];
      for (const name of names.slice(i, i + batchSize)) {
        const file = options.written?.get(name) ?? (await readOrSetAside(deps, name, result, passedOver, options.reported));
        if (file) files.push(file);
      }
      // Each record remembers its file; a file is deleted once its last record is acknowledged.
      const records: OutgoingRecord[] = [];
      const lastOf = new Map<number, SpoolFile>();
      for (const file of files) {
        if (file.records.length === 0) {
          await spool.remove(file.name); // a push that changed no ref/ : nothing to send
          options.delivered?.(file);
          continue;
        }
        records.push(...file.records);
        lastOf.set(records.length - 1, file);
      }
      if (records.length === 0) continue;
      let next = 0;
      await deps.producer().send(records, deadline(), async (count) => {
        for (let r = next; r < next + count; r++) {
          const file = lastOf.get(r);
          if (!file) continue;
          await spool.remove(file.name);
          result.sent += 1;
          options.delivered?.(file);
        }
        next += count;
        await lock.refresh();
      });
      logger.debug({ sent: records.length, dir: spool.dir }, 'spooled events delivered');
    }
  }
  const [problem] = passedOver.values();
  if (problem) throw problem;
  return result;
}

/**
 * Reads one spooled event. A file that is not a valid event is moved aside; one that cannot be
 * read, or cannot be moved, is left in place and remembered in `passedOver`.
 */
async function readOrSetAside(
  deps: DrainDeps,
  name: string,
  result: DrainResult,
  passedOver: Map<string, Error>,
  reported?: Set<string>,
): Promise<SpoolFile | undefined> {
  try {
    return await deps.spool.read(name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // another drain sent it
    if (!(err instanceof InvalidSpoolFileError)) {
      passedOver.set(name, err as Error);
      if (!reported?.has(name)) deps.logger.error({ file: name, err: (err as Error).message }, 'spool file cannot be sent now; left in place');
      reported?.add(name);
      return undefined;
    }
    try {
      const aside = await deps.spool.quarantine(name);
      result.quarantined.push(aside);
      deps.logger.error({ file: aside, err: err.message }, 'invalid spooled event moved aside');
    } catch (moveErr) {
      passedOver.set(name, new SpoolError(`${err.message}; and it cannot be moved aside: ${(moveErr as Error).message}`, { cause: moveErr }));
    }
    return undefined;
  }
}
