import { createRequire } from 'node:module';
import type { Logger } from '../log/index.js';

interface RequestQueueLike {
  pending?: unknown;
  throttledUntil?: unknown;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's request queue, relative to the package (it has no exports map). */
const REQUEST_QUEUE_MODULE = 'kafkajs/src/network/requestQueue/index.js';

/**
 * Makes an idle queue skip the timer: nothing pending and no throttle to wait for. Anything else,
 * including a queue whose fields are not what kafkajs 2.2.4 has, goes to kafkajs's own code.
 * Returns why nothing was patched, or undefined once patched.
 */
export function patchRequestQueue(RequestQueue: unknown): string | undefined {
  const proto = (RequestQueue as { prototype?: RequestQueueLike } | undefined)?.prototype;
  const original = proto?.scheduleCheckPendingRequests;
  if (!proto || typeof original !== 'function') return 'kafkajs has no RequestQueue.prototype.scheduleCheckPendingRequests';
  proto.scheduleCheckPendingRequests = function (this: RequestQueueLike) {
    const { pending, throttledUntil } = this;
    if (Array.isArray(pending) && pending.length === 0 && typeof throttledUntil === 'number' && throttledUntil <= Date.now()) return;
    original.call(this);
  };
  return undefined;
}

/**
 * kafkajs 2.2.4 re-arms a 1 ms timer on every broker connection whenever its request queue is
 * empty and not throttled (it schedules `throttledUntil - now`, a negative delay, which Node turns
 * into 1 ms, forever; Node 24 also prints a TimeoutNegativeWarning). An idle consumer thus wakes
 * up about a thousand times a second per connection. This skips that timer when there is nothing
 * pending and no throttle to wait for; a new request or a fulfilled one checks the queue anyway.
 *
 * It changes kafkajs's RequestQueue for the whole process; installKafkaWorkarounds calls it once.
 * If kafkajs's internals are not what this expects, nothing is changed (kafkajs works as shipped,
 * only busier when idle) and the reason is logged. Returns whether the patch is in place.
 */
export function stopIdleRequestTimers(logger: Pick<Logger, 'debug' | 'warn'>): boolean {
  let problem: string | undefined;
  try {
    problem = patchRequestQueue(createRequire(import.meta.url)(REQUEST_QUEUE_MODULE));
  } catch (err) {
    problem = `cannot load ${REQUEST_QUEUE_MODULE}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
  if (problem) logger.warn({ problem }, 'kafkajs idle timers left as they are: an idle consumer uses more CPU');
  else logger.debug('kafkajs idle request timers stopped');
  return problem === undefined;
}
