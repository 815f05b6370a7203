import { drainSpool, type DrainResult } from './drain.js';
import { DeliveryError, SpoolError } from './errors.js';
import type { Publishing } from './setup.js';
import { counted } from '../text/index.js';

/**
 * `pullrep spool flush`: sends everything waiting, oldest first, until the spool is empty.
 * Each batch gets publish.timeoutMs to be acknowledged. Throws DeliveryError (nothing lost) when
 * the broker does not answer or another process keeps the drain lock.
 */
export async function flushSpool(publishing: Publishing): Promise<DrainResult> {
  const { spool, lock, timeoutMs } = publishing;
  const now = publishing.now ?? Date.now;
  if ((await spool.names()).length === 0) return { sent: 0, quarantined: [] };
  if (!(await lock.acquire(now() + timeoutMs))) {
    const waiting = (await spool.names()).length;
    throw new DeliveryError(`another process is draining ${spool.dir} (pullrep primary, when it runs, sends the spool itself); ${counted(waiting, 'file')} waiting`, waiting);
  }
  try {
    return await drainSpool(publishing, { deadline: () => now() + timeoutMs });
  } catch (err) {
    const waiting = (await spool.names()).length;
    const what = err instanceof SpoolError ? err.message : `Kafka did not acknowledge (${(err as Error).message})`;
    throw new DeliveryError(`${what}; ${counted(waiting, 'file')} still waiting in ${spool.dir}`, waiting, { cause: err });
  } finally {
    await lock.release();
  }
}
