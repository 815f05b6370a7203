import { encodeEvent, makeEvent, type RefEvent, type RefsUpdatedEvent, type RefUpdate } from '../events/index.js';
import type { OutgoingRecord } from '../kafka/index.js';
import { splitRefUpdates } from './split.js';

export interface RefsUpdatedInput {
  repo: string;
  origin: string;
  refs: readonly RefUpdate[];
  /** publish.maxEventBytes */
  maxBytes: number;
  now?: () => Date;
}

/** The event(s) of one push: one, or several with `part` when the push is too big for one. */
export function refsUpdatedEvents(input: RefsUpdatedInput): RefsUpdatedEvent[] {
  const groups = splitRefUpdates(input.refs, input.maxBytes);
  return groups.map((refs, index) =>
    makeEvent<RefsUpdatedEvent>(
      {
        kind: 'refs-updated',
        repo: input.repo,
        origin: input.origin,
        refs,
        ...(groups.length > 1 ? { part: { index, count: groups.length } } : {}),
      },
      input.now,
    ),
  );
}

/** Kafka records of events: key = repository name, value = the encoded (validated) event. */
export function eventRecords(events: readonly RefEvent[], topic: string): OutgoingRecord[] {
  return events.map((event) => ({ topic, key: event.repo, value: encodeEvent(event) }));
}
