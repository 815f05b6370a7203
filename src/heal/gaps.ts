import type { PartitionOffsets } from '../kafka/index.js';

/** Events of one partition this replica never read and that the topic no longer holds. */
export interface Gap {
  topic: string;
  partition: number;
  /** The group's committed position, null when it has none. */
  committed: bigint | null;
  /** The partition's log start offset now. */
  logStart: bigint;
  /** How many offsets were lost (logStart − committed); null when the group had no position. */
  lost: bigint | null;
}

/**
 * Compares a group's committed positions with the log start of each assigned partition. A
 * position below the log start is a gap. A partition without a position whose log no longer
 * starts at 0 is one too, but only for a replica that was already bootstrapped (`knownReplica`):
 * for a new one the bootstrap resyncs every repository anyway.
 */
export function findGaps(
  assigned: Record<string, number[]>,
  committed: Map<string, Map<number, string>>,
  offsets: Map<string, PartitionOffsets[]>,
  knownReplica: boolean,
): Gap[] {
  const gaps: Gap[] = [];
  for (const [topic, partitions] of Object.entries(assigned)) {
    const logs = new Map((offsets.get(topic) ?? []).map((o) => [o.partition, o]));
    for (const partition of partitions) {
      const log = logs.get(partition);
      if (!log) continue;
      const logStart = BigInt(log.low);
      const raw = committed.get(topic)?.get(partition);
      const position = raw === undefined || raw === '' || BigInt(raw) < 0n ? null : BigInt(raw);
      if (position === null) {
        if (knownReplica && logStart > 0n) gaps.push({ topic, partition, committed: null, logStart, lost: null });
      } else if (position < logStart) {
        gaps.push({ topic, partition, committed: position, logStart, lost: logStart - position });
      }
    }
  }
  return gaps;
}
