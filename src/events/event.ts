import { randomUUID } from 'node:crypto';
import { EventDecodeError, UnsupportedEventVersionError } from './errors.js';
import { isObjectId, quote, refNameProblem, repoNameProblem } from './names.js';

/**
 * The ref-update event, version 1. See docs/events.md for the schema and examples.
 * Events are hints: a replica makes each named ref equal to the primary's current value.
 */
export const EVENT_VERSION = 1;
/** Largest encoded event a reader accepts (the broker's default message size is 1 MiB). */
export const MAX_EVENT_BYTES = 1024 * 1024;
/** Most ref updates one event may carry; a bigger push is split into several events. */
export const MAX_REFS_PER_EVENT = 20_000;

export type EventKind = 'refs-updated' | 'repo-created' | 'repo-deleted' | 'full-sync';
export const EVENT_KINDS: readonly EventKind[] = ['refs-updated', 'repo-created', 'repo-deleted', 'full-sync'];

export interface RefUpdate {
  ref: string;
  /** Object id before the push; all zeros when the ref was created. */
  old: string;
  /** Object id after the push; all zeros when the ref was deleted. */
  new: string;
}

interface EventBase {
  v: 1;
  /** Unique id of this event (UUID). */
  id: string;
  repo: string;
  /** Name of the primary that published it. */
  origin: string;
  /** ISO-8601 time of publication. */
  publishedAt: string;
}

export interface RefsUpdatedEvent extends EventBase {
  kind: 'refs-updated';
  refs: RefUpdate[];
  /** Present when one push was split into several events. */
  part?: { index: number; count: number };
}
export interface RepoCreatedEvent extends EventBase {
  kind: 'repo-created';
}
export interface RepoDeletedEvent extends EventBase {
  kind: 'repo-deleted';
}
export interface FullSyncEvent extends EventBase {
  kind: 'full-sync';
  /** Why the full sync was asked for, e.g. "backfill", "replay", "verify". */
  reason?: string;
}

export type RefEvent = RefsUpdatedEvent | RepoCreatedEvent | RepoDeletedEvent | FullSyncEvent;

type NewEvent<E extends RefEvent> = Omit<E, 'v' | 'id' | 'publishedAt'> & Partial<Pick<E, 'id' | 'publishedAt'>>;

/** Builds a complete event, filling in version, id and publication time. */
export function makeEvent<E extends RefEvent>(fields: NewEvent<E>, now: () => Date = () => new Date()): E {
  return { v: EVENT_VERSION, id: fields.id ?? randomUUID(), publishedAt: fields.publishedAt ?? now().toISOString(), ...fields } as E;
}

/** Encodes an event after validating it, so nothing invalid is ever produced. */
export function encodeEvent(event: RefEvent): Buffer {
  const checked = validateEvent(event);
  return Buffer.from(JSON.stringify(checked));
}

/** Decodes and validates an event from a Kafka record value. Throws EventDecodeError. */
export function decodeEvent(value: Buffer | string | null | undefined): RefEvent {
  if (value === null || value === undefined) throw new EventDecodeError('event has no value');
  const size = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
  if (size > MAX_EVENT_BYTES) throw new EventDecodeError(`event is ${size} bytes; at most ${MAX_EVENT_BYTES} are accepted`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    throw new EventDecodeError(`event is not JSON: ${(err as Error).message}`, { cause: err });
  }
  return validateEvent(parsed);
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const ORIGIN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Validates every field of a decoded value; returns a clean copy holding only known fields. */
export function validateEvent(input: unknown): RefEvent {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new EventDecodeError('event must be a JSON object');
  }
  const o = input as Record<string, unknown>;
  if (o.v !== EVENT_VERSION) {
    if (typeof o.v === 'number' || typeof o.v === 'string') throw new UnsupportedEventVersionError(o.v);
    throw new EventDecodeError('event.v is missing');
  }
  const kind = o.kind;
  if (typeof kind !== 'string' || !EVENT_KINDS.includes(kind as EventKind)) {
    throw new EventDecodeError(`event.kind ${quote(kind)} is not one of ${EVENT_KINDS.join(', ')}`);
  }
  if (typeof o.id !== 'string' || !ID.test(o.id)) throw new EventDecodeError(`event.id ${quote(o.id)} is not a valid id`);
  const repoProblem = repoNameProblem(o.repo);
  if (repoProblem) throw new EventDecodeError(`event.repo ${quote(o.repo)} ${repoProblem}`);
  if (typeof o.origin !== 'string' || !ORIGIN.test(o.origin)) {
    throw new EventDecodeError(`event.origin ${quote(o.origin)} is not a valid primary name`);
  }
  if (typeof o.publishedAt !== 'string' || Number.isNaN(Date.parse(o.publishedAt))) {
    throw new EventDecodeError(`event.publishedAt ${quote(o.publishedAt)} is not an ISO-8601 time`);
  }
  const base = { v: EVENT_VERSION, id: o.id, repo: o.repo as string, origin: o.origin, publishedAt: o.publishedAt } as const;
  switch (kind as EventKind) {
    case 'refs-updated':
      return { ...base, kind: 'refs-updated', refs: validateRefs(o.refs), ...validatePart(o.part) };
    case 'full-sync': {
      if (o.reason !== undefined && (typeof o.reason !== 'string' || o.reason.length > 200)) {
        throw new EventDecodeError('event.reason must be a string of at most 200 characters');
      }
      return o.reason === undefined ? { ...base, kind: 'full-sync' } : { ...base, kind: 'full-sync', reason: o.reason };
    }
    case 'repo-created':
      return { ...base, kind: 'repo-created' };
    case 'repo-deleted':
      return { ...base, kind: 'repo-deleted' };
  }
}

function validateRefs(value: unknown): RefUpdate[] {
  if (!Array.isArray(value) || value.length === 0) throw new EventDecodeError('event.refs must be a non-empty array');
  if (value.length > MAX_REFS_PER_EVENT) {
    throw new EventDecodeError(`event.refs has ${value.length} entries; at most ${MAX_REFS_PER_EVENT} are accepted`);
  }
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) throw new EventDecodeError(`event.refs[${i}] must be an object`);
    const e = entry as Record<string, unknown>;
    const problem = refNameProblem(e.ref);
    if (problem) throw new EventDecodeError(`event.refs[${i}].ref ${quote(e.ref)} ${problem}`);
    for (const field of ['old', 'new'] as const) {
      if (!isObjectId(e[field])) {
        throw new EventDecodeError(`event.refs[${i}].${field} ${quote(e[field])} is not a 40 or 64 character hex object id`);
      }
    }
    return { ref: e.ref as string, old: e.old as string, new: e.new as string };
  });
}

function validatePart(value: unknown): { part?: { index: number; count: number } } {
  if (value === undefined) return {};
  const p = value as Record<string, unknown>;
  const ok =
    typeof value === 'object' &&
    value !== null &&
    Number.isInteger(p.index) &&
    Number.isInteger(p.count) &&
    (p.count as number) >= 1 &&
    (p.count as number) <= 100_000 &&
    (p.index as number) >= 0 &&
    (p.index as number) < (p.count as number);
  if (!ok) throw new EventDecodeError('event.part must be { index, count } with 0 <= index < count');
  return { part: { index: p.index as number, count: p.count as number } };
}
