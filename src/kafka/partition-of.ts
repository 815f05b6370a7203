/**
 * The partition the producer's default partitioner gives a keyed record: murmur2 of the key's
 * bytes (Kafka's Java client and kafkajs's default partitioner compute the same), made positive,
 * modulo the topic's partition count. The replica uses it to know which repositories a partition
 * of the events topic (and of each retry stage, which keeps an event's partition) carries.
 */
export function partitionOf(key: string | Buffer, partitions: number): number {
  if (!Number.isSafeInteger(partitions) || partitions < 1) throw new RangeError('partitions must be a positive integer');
  return (murmur2(typeof key === 'string' ? Buffer.from(key, 'utf8') : key) & 0x7fffffff) % partitions;
}

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2, 32-bit signed arithmetic as in Java. */
export function murmur2(data: Buffer): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i] ?? 0) | ((data[i + 1] ?? 0) << 8) | ((data[i + 2] ?? 0) << 16) | ((data[i + 3] ?? 0) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length % 4;
  if (rest === 3) h ^= (data[whole + 2] ?? 0) << 16;
  if (rest >= 2) h ^= (data[whole + 1] ?? 0) << 8;
  if (rest >= 1) {
    h ^= data[whole] ?? 0;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}
