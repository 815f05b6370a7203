import type { CatalogView } from '../catalog/view.js';
import type { Clock } from '../consumer/clock.js';
import { partitionOf, type KafkaClient, type OffsetReset, type TopicFollower } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { counted } from '../text/index.js';
import type { SyncStateStore } from '../state/store.js';
import { findGaps, type Gap } from './gaps.js';
import type { HealMetrics } from './metrics.js';
import { KeyedQueue } from './queue.js';
import { resyncRepository, verifyRepository, type RepairDeps } from './repair.js';

export interface HealOptions {
  /** Every repository is verified at least once per this interval; 0 = no continuous verification. */
  verifyIntervalMs: number;
  verifyConcurrency: number;
  /** Most verifications started per second. */
  verifyRatePerSecond: number;
  /** Full syncs (bootstrap, gaps) at once: fewer than the fetcher's slots, so events always have one. */
  resyncConcurrency: number;
}

export interface SelfHealingDeps {
  kafka: KafkaClient;
  catalogTopic: string;
  /** The replica's consumer group. */
  group: string;
  /** The events topic, whose partitions say which repositories this member owns. */
  eventsTopic: string;
  /** Topics whose positions are checked for gaps: the events topic and the retry stages. */
  consumed: readonly string[];
  /** Partitions of the events topic (the retry stages have as many). */
  partitions: number;
  catalog: CatalogView;
  store: SyncStateStore;
  /**
   * Whether this replica keeps a repository (replica.shard, replica.repos): bootstrap, gap repair
   * and verification cover only those; one kept on disk that is no longer selected is left alone.
   * Every repository when absent.
   */
  selects?: ((repo: string) => boolean) | undefined;
  repair: Omit<RepairDeps, 'catalog' | 'state' | 'now' | 'logger' | 'signal'>;
  listLocal(): Promise<string[]>;
  options: HealOptions;
  clock: Clock;
  logger: Logger;
  metrics: HealMetrics;
}

type Resync = { reason: 'bootstrap' | 'gap'; gaps: number[] };
const BOOTSTRAPPED = 'bootstrapped';
const EVENTS_PARTITIONS = 'events-partitions';
/** Events of a repository taken less than this long ago and not applied yet make verification wait for them. */
const BUSY_MS = 10 * 60 * 1000;
/** Consecutive verifications a repository's events on their way may put off. */
const MAX_SKIPS = 3;
/** The longest one timer may wait (setTimeout's limit). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How often a catalog that could not be read is tried again. */
const CATALOG_RETRY_MS = 10_000;

/**
 * The replica heals itself (docs/self-healing.md): it follows the catalog; bootstraps every
 * repository the catalog lists when it is new; on every assignment and every offset reset
 * compares its positions with the log start and resyncs the repositories of a partition whose
 * unread events are gone; and verifies every repository it owns at least once per
 * replica.verifyIntervalMs. It only works on the selected repositories whose events partition
 * this member owns, so the processes of one replica never heal the same repository twice.
 */
export class SelfHealing {
  private follower: TopicFollower | undefined;
  private owned = new Set<number>();
  private assignment: Record<string, number[]> = {};
  private readonly resyncs: KeyedQueue<Resync>;
  private readonly verifications: KeyedQueue<'sweep' | 'priority'>;
  private readonly pendingGaps: Gap[] = [];
  private readonly gapRemaining = new Map<number, Set<string>>();
  private readonly seenGaps = new Set<string>();
  /**
   * The group's last known position per `topic:partition`. kafkajs commits "earliest" itself when
   * it resets a position, so a check after the reset would no longer see where the group was.
   */
  private readonly positions = new Map<string, bigint>();
  /** The partition count changed since the last start: a gap cannot be mapped to repositories. */
  private mappingUnknown = false;
  private stopped = false;
  private sweepTimer: unknown;
  private wake: (() => void) | undefined;
  private retryTimer: unknown;
  private sweepRunning = false;
  private readonly deps: RepairDeps;
  private warnedPace = false;
  /** The first assignment came: which repositories this member owns is known. */
  private assignedOnce = false;
  /** Repositories this process queued for the bootstrap (each once). */
  private readonly bootstrapQueued = new Set<string>();
  /** Verifications put off in a row, per repository (see RepairDeps.busy). */
  private readonly skips = new Map<string, number>();
  /** Stops running repairs' git processes on stop(). */
  private readonly abort = new AbortController();

  constructor(private readonly d: SelfHealingDeps) {
    this.deps = {
      ...d.repair,
      catalog: d.catalog,
      state: d.store,
      now: () => d.clock.now(),
      logger: d.logger,
      signal: this.abort.signal,
      busy: (repo) => {
        const since = d.store.oldestPending(repo);
        const now = d.clock.now();
        // A repository pushed to all the time is verified anyway after a few skips; an event
        // stamped in the future (a primary clock ahead) does not keep it busy.
        const skips = this.skips.get(repo) ?? 0;
        const busy = since !== null && since <= now && now - since < BUSY_MS && skips < MAX_SKIPS;
        if (busy) this.skips.set(repo, skips + 1);
        else this.skips.delete(repo);
        return busy;
      },
    };
    this.resyncs = new KeyedQueue<Resync>({
      concurrency: d.options.resyncConcurrency,
      minGapMs: 0,
      clock: d.clock,
      run: (repo, job) => this.resync(repo, job),
      merge: (a, b) => ({ reason: a.reason === 'gap' || b.reason === 'gap' ? 'gap' : 'bootstrap', gaps: [...a.gaps, ...b.gaps] }),
    });
    this.verifications = new KeyedQueue<'sweep' | 'priority'>({
      concurrency: d.options.verifyConcurrency,
      minGapMs: 1000 / d.options.verifyRatePerSecond,
      clock: d.clock,
      run: (repo) => this.verify(repo),
      // A sweep's verification of a repository being verified is redundant; a priority one (a
      // tombstone, after a gap) runs again after it, since the running one may predate its cause.
      dropWhileRunning: (item) => item === 'sweep',
    });
  }

  /** Starts following the catalog; healing begins once it is read to its end. */
  start(): void {
    const { kafka, catalog } = this.d;
    kafka.onOffsetReset((reset) => this.onReset(reset));
    catalog.onChange((change) => {
      if (change.record === null && this.owns(change.repo)) this.verifications.add(change.repo, 'priority');
    });
    this.follow(false);
  }

  /** Follows the catalog; while it cannot be read (no primary agent yet), tries again every CATALOG_RETRY_MS. */
  private follow(again: boolean): void {
    const { kafka, catalog, logger } = this.d;
    let caught = false;
    const follower = kafka.follow(
      this.d.catalogTopic,
      (_partition, message) => catalog.apply(message),
      (err) => {
        if (!caught || this.stopped) return;
        // Stopped following after it was read: read it again (what the view holds stays).
        logger.error({ err, topic: this.d.catalogTopic }, 'following the catalog stopped; reading it again');
        void follower.stop().finally(() => {
          if (!this.stopped) this.retryTimer = this.d.clock.setTimer(() => this.follow(true), CATALOG_RETRY_MS);
        });
      },
    );
    this.follower = follower;
    follower.caughtUp.then(
      () => {
        caught = true;
        if (this.stopped) return;
        catalog.markLoaded();
        logger.info({ repositories: catalog.size, topic: this.d.catalogTopic }, 'catalog read');
        this.guard('planning', () => this.plan());
      },
      (err: unknown) => {
        if (this.stopped) return;
        if (!again) logger.warn({ err, topic: this.d.catalogTopic }, 'the catalog cannot be read (is `pullrep primary` running?); bootstrap, gap repair and verification wait for it');
        void follower.stop().finally(() => {
          if (!this.stopped) this.retryTimer = this.d.clock.setTimer(() => this.follow(true), CATALOG_RETRY_MS);
        });
      },
    );
  }

  /**
   * Reads the group's committed positions before the consumer starts, so a gap found later (at the
   * first assignment, at a reset) knows how many offsets were lost.
   */
  async prime(): Promise<void> {
    // Events missed under another partition count went to partitions the current count does not
    // name: a gap found now cannot be mapped to repositories, so it resyncs all of them.
    const before = this.d.store.meta(EVENTS_PARTITIONS);
    this.mappingUnknown = before !== undefined && Number(before) !== this.d.partitions;
    if (this.mappingUnknown) this.d.logger.warn({ before: Number(before), now: this.d.partitions }, 'the events topic has a new partition count: a retention gap found now resyncs every repository');
    this.d.store.setMeta(EVENTS_PARTITIONS, String(this.d.partitions));
    const admin = await this.d.kafka.admin();
    try {
      this.remember(await admin.committedOffsets(this.d.group, this.d.consumed));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Keeps the furthest position seen per partition; returns the committed map with them filled in. */
  private remember(committed: Map<string, Map<number, string>>): Map<string, Map<number, string>> {
    const merged = new Map<string, Map<number, string>>();
    for (const [topic, partitions] of committed) {
      const out = new Map<number, string>();
      for (const [partition, raw] of partitions) {
        const key = `${topic}:${partition}`;
        const fresh = raw === '' ? -1n : BigInt(raw);
        const known = this.positions.get(key);
        if (fresh >= 0n && (known === undefined || fresh > known)) this.positions.set(key, fresh);
        out.set(partition, String(fresh >= 0n ? fresh : (known ?? fresh)));
      }
      merged.set(topic, out);
    }
    return merged;
  }

  /** A group join: what this member owns now. Positions are checked for gaps at once. */
  assign(assignment: Record<string, number[]>): void {
    this.assignment = assignment;
    this.owned = new Set(assignment[this.d.eventsTopic] ?? []);
    this.assignedOnce = true;
    this.resyncs.retain((repo) => this.owns(repo));
    this.verifications.retain((repo) => this.owns(repo));
    for (const repo of [...this.bootstrapQueued]) if (!this.owns(repo)) this.bootstrapQueued.delete(repo);
    // A gap's repositories that moved to another member are no longer this one's to heal; the
    // gap stays open in the state (that member's sweep verifies them, it does not know the gap).
    for (const [id, remaining] of [...this.gapRemaining]) {
      const moved = [...remaining].filter((repo) => !this.owns(repo));
      if (moved.length === 0) continue;
      for (const repo of moved) remaining.delete(repo);
      this.d.logger.warn({ gap: id, moved: moved.length }, 'repositories of a retention gap moved to another member before they were resynced; its verification covers them');
      if (remaining.size === 0) this.gapRemaining.delete(id);
    }
    void this.checkGaps(assignment).catch((err: unknown) => this.d.logger.warn({ err }, 'could not compare positions with the log start; checking again at the next assignment'));
    if (this.d.catalog.ready) this.guard('planning', () => this.plan());
  }

  /** Asks for a verification of a repository now (ahead of the sweep). */
  verifySoon(repo: string): void {
    if (this.owns(repo)) this.verifications.add(repo, 'priority');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer !== undefined) this.d.clock.clearTimer(this.sweepTimer);
    this.wake?.();
    if (this.retryTimer !== undefined) this.d.clock.clearTimer(this.retryTimer);
    this.abort.abort();
    this.resyncs.stop();
    this.verifications.stop();
    await this.follower?.stop();
  }

  /** After stop(): resolves once running repairs are done (they were aborted; one waiting for a fetch slot gets one when event syncs end). */
  async idle(): Promise<void> {
    await Promise.allSettled([this.resyncs.idle(), this.verifications.idle()]);
  }

  private owns(repo: string): boolean {
    return this.selected(repo) && this.owned.has(partitionOf(repo, this.d.partitions));
  }

  private selected(repo: string): boolean {
    return this.d.selects?.(repo) ?? true;
  }

  private onReset(reset: OffsetReset): void {
    if (reset.groupId !== this.d.group || !this.d.consumed.includes(reset.topic)) return;
    this.d.logger.warn({ topic: reset.topic, partition: reset.partition }, 'the consumer reset a position to the log start; checking for a retention gap');
    void this.checkGaps({ [reset.topic]: [reset.partition] }, true).catch((err: unknown) => this.d.logger.warn({ err }, 'could not check the reset partition for a gap'));
  }

  /** Finds gaps of the given partitions; a reset is a gap even when the position has moved on meanwhile. */
  private async checkGaps(assignment: Record<string, number[]>, reset = false): Promise<void> {
    const topics = Object.keys(assignment).filter((t) => this.d.consumed.includes(t));
    if (topics.length === 0) return;
    const admin = await this.d.kafka.admin();
    let gaps: Gap[];
    try {
      const committed = this.remember(await admin.committedOffsets(this.d.group, topics));
      const offsets = new Map(await Promise.all(topics.map(async (t) => [t, await admin.topicOffsets(t)] as const)));
      gaps = findGaps(assignment, committed, offsets, this.d.store.meta(BOOTSTRAPPED) !== undefined);
      if (reset && gaps.length === 0) {
        for (const [topic, partitions] of Object.entries(assignment)) {
          for (const partition of partitions) {
            const low = offsets.get(topic)?.find((o) => o.partition === partition)?.low ?? '0';
            gaps.push({ topic, partition, committed: null, logStart: BigInt(low), lost: null });
          }
        }
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    for (const gap of gaps) {
      const key = `${gap.topic}:${gap.partition}:${gap.logStart}`;
      if (this.seenGaps.has(key)) continue;
      this.seenGaps.add(key);
      this.d.logger.error(
        { topic: gap.topic, partition: gap.partition, committed: gap.committed?.toString() ?? null, logStart: gap.logStart.toString(), lost: gap.lost?.toString() ?? 'unknown' },
        'retention gap: events this replica never read are gone from the topic; resyncing the repositories of that partition',
      );
      this.d.metrics.gaps.inc({ topic: gap.topic });
      if (gap.lost !== null) this.d.metrics.gapOffsets.inc({ topic: gap.topic }, Number(gap.lost));
      this.pendingGaps.push(gap);
    }
    if (this.d.catalog.ready) this.guard('planning', () => this.plan());
  }

  /**
   * Runs a step whose failure (the state cannot be written: busy, disk full) must not stop the
   * replica: logged, and the next assignment, sweep or start tries again.
   */
  private guard(what: string, step: () => void): boolean {
    try {
      step();
      return true;
    } catch (err) {
      this.d.logger.warn({ err }, `self-healing: ${what} failed; tried again later`);
      return false;
    }
  }

  /** With the catalog read: queues the bootstrap and the gaps' resyncs, starts the sweep. */
  private plan(): void {
    // Both the catalog and this member's share of the partitions must be known.
    if (this.stopped || !this.assignedOnce) return;
    const { store, catalog, clock } = this.d;
    const now = clock.now();
    // One gap at a time, taken off the list only once it is recorded (a failed write retries it).
    for (let gap = this.pendingGaps[0]; gap; gap = this.pendingGaps[0]) {
      const { partition } = gap;
      const repos = catalog.repositories().filter((repo) => (this.mappingUnknown || partitionOf(repo, this.d.partitions) === partition) && this.owns(repo));
      const id = store.recordGap({ at: now, topic: gap.topic, partition, offsets: gap.lost === null ? null : Number(gap.lost), repos: repos.length });
      this.pendingGaps.shift();
      this.gapRemaining.set(id, new Set(repos));
      if (repos.length === 0) this.gapDone(id);
      for (const repo of repos) this.resyncs.add(repo, { reason: 'gap', gaps: [id] });
    }
    // A tombstone read with the catalog: the replica's copy is marked (or deleted) at once.
    for (const repo of catalog.deletedRepositories()) if (this.owns(repo)) this.verifications.add(repo, 'priority');
    // The bootstrap covers the whole catalog, whichever process of the replica owns each
    // repository; each works on its own share, and it is done once no repository is left.
    if (store.meta(BOOTSTRAPPED) === undefined) {
      store.planBootstrap(catalog.repositories().filter((repo) => this.selected(repo)));
      // Planned under a selection that has changed since: nothing left to do for those here.
      for (const repo of store.bootstrapPending()) if (!this.selected(repo)) store.bootstrapDone(repo, now);
    }
    const pending = store.bootstrapPending().filter((repo) => this.owns(repo) && !this.bootstrapQueued.has(repo));
    if (pending.length) {
      this.d.logger.info({ repositories: pending.length }, 'bootstrapping from the catalog');
      for (const repo of pending) {
        this.bootstrapQueued.add(repo);
        this.resyncs.add(repo, { reason: 'bootstrap', gaps: [] });
      }
    }
    // Once the resyncs queued so far are done (at once when there are none): the sweep.
    void this.resyncs.idle().then(() => this.guard('finishing the bootstrap', () => this.finishBootstrap()));
  }

  /** This member's share of the bootstrap is done: the sweep starts (at once after a bootstrap); the mark is set once every share is. */
  private finishBootstrap(): void {
    const { store, logger } = this.d;
    if (this.stopped) return;
    const pending = store.bootstrapPending();
    if (pending.some((repo) => this.owns(repo))) return;
    const first = store.meta(BOOTSTRAPPED) === undefined;
    if (first && pending.length === 0) {
      const { total } = store.bootstrapProgress();
      store.setMeta(BOOTSTRAPPED, new Date(this.d.clock.now()).toISOString());
      logger.info({ repositories: total }, `bootstrap done: ${counted(total, 'repository', 'repositories')}`);
    }
    this.startSweep(first);
  }

  private async resync(repo: string, job: Resync): Promise<void> {
    if (this.stopped || !this.owns(repo)) return;
    const { metrics, logger, store } = this.d;
    let result: string;
    try {
      result = await resyncRepository(repo, this.deps, { skipWhenEqual: true });
    } catch (err) {
      result = 'failed';
      logger.warn({ repo, reason: job.reason, err: (err as Error).message }, 'resync failed; verification tries again');
    }
    metrics.resyncs.inc({ reason: job.reason, result });
    const recorded = this.guard('recording the bootstrap', () => {
      if (job.reason === 'bootstrap' || store.meta(BOOTSTRAPPED) === undefined) store.bootstrapDone(repo, this.d.clock.now());
    });
    // Not recorded: the next plan() queues it again.
    if (!recorded) this.bootstrapQueued.delete(repo);
    for (const id of job.gaps) {
      const remaining = this.gapRemaining.get(id);
      remaining?.delete(repo);
      if (remaining?.size === 0) this.guard('recording a healed gap', () => this.gapDone(id));
    }
    // Right after a gap's resync, verified like every repository (cheap when it now agrees).
    if (job.reason === 'gap') this.verifications.add(repo, 'priority');
  }

  private gapDone(id: number): void {
    this.gapRemaining.delete(id);
    this.d.store.gapHealed(id, this.d.clock.now());
    this.d.logger.info({ gap: id }, 'retention gap healed');
  }

  private async verify(repo: string): Promise<void> {
    if (this.stopped || !this.owns(repo)) return;
    const { metrics, logger } = this.d;
    try {
      const outcome = await verifyRepository(repo, this.deps);
      metrics.verifications.inc({ result: outcome.result });
      if (outcome.askedPrimary) metrics.primaryChecks.inc();
    } catch (err) {
      metrics.verifications.inc({ result: 'error' });
      logger.warn({ repo, err: (err as Error).message }, 'verification failed; the next sweep tries again');
      try {
        this.d.store.verified(repo, { at: this.d.clock.now(), result: 'error', checksum: null, state: this.d.store.get(repo)?.state ?? 'unverified' });
      } catch {
        // The state is for the views only.
      }
    }
  }

  /** The continuous sweep: each owned repository once per interval, least recently verified first, spread over it. */
  private startSweep(now = false): void {
    if (this.sweepRunning || this.stopped || this.d.options.verifyIntervalMs <= 0) return;
    this.sweepRunning = true;
    void this.sweep(now)
      .catch((err: unknown) => this.d.logger.warn({ err }, 'self-healing: the verification sweep stopped; it starts again at the next assignment'))
      .finally(() => (this.sweepRunning = false));
  }

  private async sweep(immediately: boolean): Promise<void> {
    const { options, store, catalog, logger } = this.d;
    while (!this.stopped) {
      const names = new Set([...catalog.repositories(), ...catalog.deletedRepositories(), ...(await this.d.listLocal().catch(() => []))]);
      const last = store.lastVerified();
      const mine = [...names].filter((repo) => this.owns(repo));
      mine.sort((a, b) => (last.get(a) ?? 0) - (last.get(b) ?? 0));
      const minGap = 1000 / options.verifyRatePerSecond;
      const spread = (options.verifyIntervalMs * 0.9) / Math.max(1, mine.length);
      if (spread < minGap && !this.warnedPace) {
        this.warnedPace = true;
        logger.warn({ repositories: mine.length, verifyRatePerSecond: options.verifyRatePerSecond, verifyIntervalMs: options.verifyIntervalMs }, 'replica.verifyRatePerSecond is too low to verify every repository once per replica.verifyIntervalMs');
      }
      const tick = immediately ? minGap : Math.max(minGap, spread);
      immediately = false;
      for (const repo of mine) {
        if (this.stopped) return;
        if (this.owns(repo)) this.verifications.add(repo, 'sweep');
        await this.sleep(tick);
      }
      if (mine.length === 0) await this.sleep(Math.min(options.verifyIntervalMs, 60_000));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      this.wake = resolve;
      this.sweepTimer = this.d.clock.setTimer(resolve, Math.min(ms, MAX_TIMER_MS));
    });
  }
}
