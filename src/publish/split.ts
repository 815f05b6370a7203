import { MAX_EVENT_BYTES, MAX_REF_NAME, MAX_REFS_PER_EVENT, type RefUpdate } from '../events/index.js';

/**
 * Room left in an encoded event for everything but the refs: version, kind, id, origin, time,
 * part and a repository name of up to 255 characters (escaped), with margin.
 */
export const ENVELOPE_BYTES = 2048;

/** Smallest usable limit: the envelope plus the largest possible ref update. */
export const MIN_EVENT_BYTES = ENVELOPE_BYTES + MAX_REF_NAME + 2 * 64 + 64;

/** Bytes one ref update adds to an encoded event (its JSON and a separating comma). */
export function refUpdateBytes(update: RefUpdate): number {
  return Buffer.byteLength(JSON.stringify(update)) + 1;
}

/**
 * Splits the ref updates of one push into consecutive groups, each small enough that an event
 * carrying it encodes to less than `maxBytes` and holds at most MAX_REFS_PER_EVENT refs. Order is
 * kept. A push that fits yields one group.
 */
export function splitRefUpdates(refs: readonly RefUpdate[], maxBytes: number): RefUpdate[][] {
  if (maxBytes < MIN_EVENT_BYTES) throw new RangeError(`publish.maxEventBytes must be at least ${MIN_EVENT_BYTES}; got ${maxBytes}`);
  // Readers refuse events bigger than MAX_EVENT_BYTES, whatever the configuration says.
  const budget = Math.min(maxBytes, MAX_EVENT_BYTES) - ENVELOPE_BYTES;
  const groups: RefUpdate[][] = [];
  let current: RefUpdate[] = [];
  let bytes = 0;
  for (const update of refs) {
    const size = refUpdateBytes(update);
    if (current.length > 0 && (bytes + size > budget || current.length >= MAX_REFS_PER_EVENT)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(update);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
