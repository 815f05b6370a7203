import type { BatchSource } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import type { HandOff } from './handoff.js';
import type { PartitionPauser } from './pauser.js';
import type { PartitionWork } from './partition-work.js';

export interface ReplicaConsumerDeps {
  source: BatchSource;
  work: PartitionWork;
  pauser: PartitionPauser;
  handOff: HandOff;
  /** Aborted when the shutdown grace period is over: running syncs stop (the processor holds its signal). */
  stopSyncs: AbortController;
  /** The topics consumed: the events topic and the retry stages (see consumedTopics). */
  topics: readonly string[];
  /** Partitions processed at the same time. */
  concurrency: number;
  logger: Logger;
  /** Called when the client gives up (a crash it does not restart from). */
  onFatal?: (err: unknown) => void;
}

/**
 * The replica's one consumer (group = replica name) over the events topic and its retry stages.
 * Batches go to PartitionWork; records not yet due pause their partition only. Every part is
 * built by the replica's composition root (src/replica/compose.ts) and handed in.
 */
export class ReplicaConsumer {
  private draining = false;
  private joined = false;
  private crashedSinceJoin = false;

  constructor(private readonly deps: ReplicaConsumerDeps) {}

  get ready(): boolean {
    return this.joined && !this.draining && !this.crashedSinceJoin;
  }

  /** The client crashed and has not rejoined its group since. */
  get crashed(): boolean {
    return this.crashedSinceJoin;
  }

  /** In the group (joined at least once, not shutting down). */
  get inGroup(): boolean {
    return this.joined && !this.draining;
  }

  async start(): Promise<void> {
    const { source, work, logger } = this.deps;
    source.onJoin((assignment) => {
      work.assign(assignment);
      this.joined = true;
      this.crashedSinceJoin = false;
      logger.info({ assignment }, 'joined the replica group');
    });
    source.onCrash((err, restart) => {
      logger.error({ err, restart }, 'consumer crashed');
      this.crashedSinceJoin = true;
      if (!restart && !this.draining) this.deps.onFatal?.(err);
    });
    await source.start(this.deps.topics, (batch) => work.onBatch(batch), { concurrency: this.deps.concurrency });
  }

  /**
   * Stops taking work, lets running batches finish up to `graceMs` (then aborts their syncs),
   * and only then stops the client: kafkajs ignores commits once its runner is stopping.
   */
  async close(graceMs: number): Promise<void> {
    this.draining = true;
    this.deps.pauser.clear();
    const { source, logger } = this.deps;
    try {
      source.pauseTopics(this.deps.topics);
    } catch (err) {
      logger.debug({ err }, 'pausing for shutdown failed');
    }
    const timer = setTimeout(() => this.deps.stopSyncs.abort(), graceMs);
    try {
      await this.deps.work.drain();
    } finally {
      clearTimeout(timer);
    }
    try {
      await source.disconnect();
    } catch (err) {
      logger.warn({ err }, 'consumer disconnect failed');
    }
    try {
      await this.deps.handOff.close();
    } catch (err) {
      logger.warn({ err }, 'producer disconnect failed');
    }
  }
}
