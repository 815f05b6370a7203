import type { ConsumedMessage, SourceBatch } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import type { InRecord } from '../retry/index.js';
import type { Clock } from './clock.js';
import { keyOf, type PartitionControl, type PartitionPauser } from './pauser.js';
import type { BatchProcessor } from './processor.js';

/** How long a partition waits before a batch whose hand-off failed is tried again. */
const HANDOFF_RETRY_MS = 1000;

/** What a batch brings from the client. */
export type BatchInput = SourceBatch;

/**
 * Runs each batch in the background while its partition is paused, and returns to the client
 * once it is settled or `inlineMs` has passed: kafkajs fetches again only after every batch of a
 * fetch is done, so a long sync would otherwise stall every other partition. When the batch is settled its partition moves on (seek
 * past what was committed) and resumes, unless a record that is not due holds it: the pauser
 * takes it, or, when it is due within the pauser's lead, the batch waits for it in memory.
 * At most `limit` batches run (or wait) at once; beyond that the client waits (back-pressure).
 */
export class PartitionWork {
  private readonly running = new Map<string, Promise<void>>();
  private assigned: Record<string, number[]> = {};
  private stopped = false;

  constructor(
    private readonly deps: {
      consumer: PartitionControl;
      processor: Pick<BatchProcessor, 'process'>;
      pauser: PartitionPauser;
      clock: Clock;
      logger: Logger;
      limit: number;
      /**
       * How long the client is kept waiting for a batch before it runs on in the background
       * (0 = never). A batch settled within it has its partition moved on and resumed before
       * the client fetches again, so the next record of that partition comes with the very next
       * fetch; one that runs on in the background only resumes its partition after the fetch in
       * flight returns (up to the fetch's wait).
       */
      inlineMs?: number;
    },
  ) {}

  /** Called on every group join: what this member owns now. */
  assign(assignment: Record<string, number[]>): void {
    this.assigned = assignment;
    // Shutting down: every partition stays paused, whatever the new assignment.
    if (this.stopped) return;
    this.deps.pauser.retain(assignment);
    // Pauses outlive assignments in the client: whatever is neither held nor running resumes.
    for (const [topic, partitions] of Object.entries(assignment)) {
      const free = partitions.filter((p) => !this.deps.pauser.isHeld(topic, p) && !this.running.has(keyOf(topic, p)));
      if (free.length) this.deps.consumer.resume([{ topic, partitions: free }]);
    }
  }

  async onBatch(payload: BatchInput): Promise<void> {
    const { batch } = payload;
    if (this.stopped || batch.messages.length === 0) return;
    const key = keyOf(batch.topic, batch.partition);
    const pause = () => this.deps.consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
    // A client that restarted after a crash has forgotten its pauses: pause again, or it would
    // fetch this partition over and over while its batch runs. The batch resumes it when settled.
    if (this.running.has(key)) return pause();
    while (this.running.size >= this.deps.limit) await Promise.race(this.running.values());
    // While this batch waited for a slot, shutdown may have begun or another batch of the same
    // partition may have started (a fetch from the partition's previous leader).
    if (this.stopped) return;
    if (this.running.has(key)) return pause();
    const records = batch.messages.map((m) => toRecord(batch.topic, batch.partition, m));
    pause();
    const work = this.run(records, payload).finally(() => this.running.delete(key));
    this.running.set(key, work);
    const inlineMs = this.deps.inlineMs ?? 0;
    if (inlineMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const later = new Promise<void>((resolve) => (timer = setTimeout(resolve, inlineMs)));
      await Promise.race([work.catch(() => undefined), later]).finally(() => clearTimeout(timer));
    }
  }

  /** Stops taking batches; resolves when every running batch is settled. */
  async drain(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.running.values()]);
  }

  get active(): number {
    return this.running.size;
  }

  private owns(topic: string, partition: number): boolean {
    return (this.assigned[topic] ?? []).includes(partition);
  }

  private async run(records: InRecord[], payload: BatchInput): Promise<void> {
    const { consumer, pauser, clock, logger } = this.deps;
    const { topic, partition } = payload.batch;
    let next: string | undefined;
    let pending = records;
    while (pending.length > 0) {
      let wait: { offset: string; dueAt: number } | undefined;
      try {
        await this.deps.processor.process(pending, {
          heartbeat: () => payload.heartbeat(),
          resolveOffset: (offset) => {
            next = String(BigInt(offset) + 1n);
          },
          hold: (offset, dueAt) => {
            wait = { offset, dueAt };
          },
          owned: () => this.owns(topic, partition),
        });
      } catch (err) {
        // Nothing was committed past what was handed off; take the batch again shortly.
        logger.warn({ err, topic, partition }, 'hand-off failed; the batch will be processed again');
        const first = pending[0];
        if (first) wait = { offset: first.offset, dueAt: clock.now() + HANDOFF_RETRY_MS };
      }
      if (this.stopped) return;
      if (!wait || !this.owns(topic, partition)) break;
      const { offset, dueAt } = wait;
      if (dueAt - clock.now() > pauser.leadMs) return pauser.hold(topic, partition, offset, dueAt);
      // Fetched early (the partition resumed ahead of its due time to be back in time): the
      // records are here and the partition is paused, so wait out the rest off the handler.
      await new Promise<void>((resolve) => clock.setTimer(resolve, dueAt - clock.now()));
      if (this.stopped) return;
      if (!this.owns(topic, partition)) break;
      pending = pending.filter((r) => BigInt(r.offset) >= BigInt(offset));
    }
    try {
      if (next !== undefined && this.owns(topic, partition)) consumer.seek({ topic, partition, offset: next });
      consumer.resume([{ topic, partitions: [partition] }]);
    } catch (err) {
      logger.debug({ err, topic, partition }, 'could not move the partition on; the client stopped');
    }
  }
}

function toRecord(topic: string, partition: number, m: ConsumedMessage): InRecord {
  return { topic, partition, offset: m.offset, key: m.key, value: m.value, timestamp: Number(m.timestamp), headers: m.headers, unreadable: m.unreadable };
}
