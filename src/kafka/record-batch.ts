import { promisify } from 'node:util';
import { unzip } from 'node:zlib';

/**
 * A decoder of Kafka record batches (magic 2) for kafkajs 2.2.4, installed in place of its own
 * (see workarounds.ts), because a single hostile record must never stall or exhaust a replica:
 * - kafkajs builds a record's headers with a quadratic loop (one object copy per header): 25,000
 *   header names froze the event loop for about 85 s. Here they are read in linear time, and at
 *   most MAX_HEADERS of them are kept.
 * - kafkajs decompresses a batch without bound: a 300 KB gzip batch holding 300 MB took the
 *   process past 1.2 GB. Here a batch decompresses to at most MAX_DECOMPRESSED_BYTES.
 * - kafkajs throws on snappy, lz4 and zstd batches, and the consumer then fails on that batch
 *   forever.
 * A batch that cannot be decoded (too large, an unsupported codec, corrupt) becomes one
 * placeholder record at its last offset, without key or value and with the reason in the
 * BATCH_ERROR_HEADER header: the consumer settles it like any undecodable event (once, on the
 * failed topic) and the partition moves past the whole batch.
 *
 * The output has the shape kafkajs's own decoder returns. The day kafkajs is replaced, this goes.
 */

export const MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024;
/**
 * Most bytes of records decoded from one partition's part of a fetch response. Past it the rest
 * of that part is left for the next fetch (it starts from the first batch not decoded), so a
 * response of many small batches that each decompress to almost MAX_DECOMPRESSED_BYTES cannot add
 * up; the first batch of a part is always decoded, so the partition keeps moving.
 */
export const MAX_DECODED_BYTES_PER_PART = 32 * 1024 * 1024;
export const MAX_HEADERS = 1000;
/** Where a placeholder record says why its batch could not be decoded. */
export const BATCH_ERROR_HEADER = 'pullrep-batch-error';

const TIMESTAMP_TYPE_FLAG = 0x08;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;
const CODEC_MASK = 0x07;
const LOG_APPEND_TIME = 1;
const CREATE_TIME = 0;

const gunzip = promisify(unzip);

/** What kafkajs's Decoder gives the batch decoder: the fetch response, positioned at a batch. */
export interface FetchDecoder {
  readInt64(): { toString(): string };
  readInt32(): number;
  slice(size: number): { buffer: Buffer };
  forward(size: number): void;
}

export interface BatchRecord {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Array<Buffer | null> | null>;
  isControlRecord: boolean;
  batchContext: BatchContext;
}

export interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  maxTimestamp: string;
  timestampType: number;
  magicByte: number;
}

export interface DecodedBatch extends Omit<BatchContext, 'magicByte'> {
  records: BatchRecord[];
}

/** A batch cut off at the end of a fetch response (kafkajs then stops reading the response). */
export type PartialBatchError = new (message: string) => Error;

/** Bytes decoded so far from each partition's part of a response (kafkajs gives each part its own decoder). */
const decodedSoFar = new WeakMap<object, number>();

/** The decoding budget of this part is spent: stop here; the next fetch starts from this batch. */
class BudgetSpent extends Error {}

/** Reads big-endian integers, zig-zag varints and byte strings from a buffer; throws RangeError past its end. */
class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  int8(): number {
    return this.buf.readInt8(this.take(1));
  }
  int16(): number {
    return this.buf.readInt16BE(this.take(2));
  }
  int32(): number {
    return this.buf.readInt32BE(this.take(4));
  }
  int64(): bigint {
    return this.buf.readBigInt64BE(this.take(8));
  }
  varint(): number {
    return Number(this.varlong());
  }
  varlong(): bigint {
    let raw = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (shift > 63n) throw new RangeError('varint longer than 10 bytes');
      const byte = this.buf.readUInt8(this.take(1));
      raw |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
    }
    return (raw >> 1n) ^ -(raw & 1n);
  }
  /** A varint length, then that many bytes; -1 is null. */
  bytes(): Buffer | null {
    const length = this.varint();
    if (length < 0) return null;
    const start = this.take(length);
    return this.buf.subarray(start, start + length);
  }
  rest(): Buffer {
    return this.buf.subarray(this.take(this.buf.length - this.at));
  }
  remaining(): number {
    return this.buf.length - this.at;
  }
  private take(n: number): number {
    if (n < 0 || this.at + n > this.buf.length) throw new RangeError('read past the end of the record batch');
    const start = this.at;
    this.at += n;
    return start;
  }
}

/**
 * Decodes one record batch from a fetch response, moving the response past it, as kafkajs's own
 * decoder does. Throws `partial` when the response holds only the batch's beginning.
 */
export async function decodeRecordBatch(fetch: FetchDecoder, partial: PartialBatchError): Promise<DecodedBatch> {
  const firstOffset = fetch.readInt64().toString();
  const length = fetch.readInt32();
  const body = fetch.slice(length).buffer;
  fetch.forward(length);
  if (body.length < length) throw new partial(`Tried to decode a partial record batch: remainingBytes(${body.length}) < recordBatchLength(${length})`);
  let context: BatchContext | undefined;
  try {
    const reader = new Reader(body);
    const partitionLeaderEpoch = reader.int32();
    const magicByte = reader.int8();
    reader.int32(); // CRC: not checked (kafkajs does not either)
    const attributes = reader.int16();
    context = {
      firstOffset,
      partitionLeaderEpoch,
      lastOffsetDelta: reader.int32(),
      firstTimestamp: reader.int64().toString(),
      maxTimestamp: reader.int64().toString(),
      producerId: reader.int64().toString(),
      producerEpoch: reader.int16(),
      firstSequence: reader.int32(),
      inTransaction: (attributes & TRANSACTIONAL_FLAG) !== 0,
      isControlBatch: (attributes & CONTROL_FLAG) !== 0,
      timestampType: (attributes & TIMESTAMP_TYPE_FLAG) !== 0 ? LOG_APPEND_TIME : CREATE_TIME,
      magicByte,
    };
    const count = reader.int32();
    const used = decodedSoFar.get(fetch) ?? 0;
    const records = await readRecords(reader, attributes & CODEC_MASK, count, context, used, (bytes) => decodedSoFar.set(fetch, used + bytes));
    return { ...withoutMagic(context), records };
  } catch (err) {
    if (err instanceof BudgetSpent) throw new partial(`the decoding budget of this fetch is spent at offset ${firstOffset}; the rest is fetched again`);
    const known = context ?? unreadableHeader(firstOffset);
    // A control batch (a transaction marker) that cannot be read is left out: a placeholder
    // without its marker would be read as an ordinary record.
    return { ...withoutMagic(known), records: known.isControlBatch ? [] : [placeholder(known, reason(err))] };
  }
}

function withoutMagic(context: BatchContext): Omit<BatchContext, 'magicByte'> {
  const { magicByte: _magic, ...rest } = context;
  return rest;
}

/** What is known of a batch whose header cannot be read: where it starts. */
function unreadableHeader(firstOffset: string): BatchContext {
  return {
    firstOffset,
    partitionLeaderEpoch: -1,
    lastOffsetDelta: 0,
    firstTimestamp: '-1',
    maxTimestamp: '-1',
    producerId: '-1',
    producerEpoch: -1,
    firstSequence: -1,
    inTransaction: false,
    isControlBatch: false,
    timestampType: CREATE_TIME,
    magicByte: 2,
  };
}

async function readRecords(
  reader: Reader,
  codec: number,
  count: number,
  context: BatchContext,
  used: number,
  spend: (bytes: number) => void,
): Promise<BatchRecord[]> {
  if (count <= 0) return [];
  let records = reader;
  const left = MAX_DECODED_BYTES_PER_PART - used;
  if (used > 0 && left <= 0) throw new BudgetSpent();
  if (codec === 1) {
    // The first batch of a part may take the whole per-batch bound; later ones what is left.
    const limit = used === 0 ? MAX_DECOMPRESSED_BYTES : Math.min(MAX_DECOMPRESSED_BYTES, left);
    const decompressed = await gunzip(reader.rest(), { maxOutputLength: limit }).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' && limit < MAX_DECOMPRESSED_BYTES) throw new BudgetSpent();
      throw new BatchError(code === 'ERR_BUFFER_TOO_LARGE' ? `the gzip batch decompresses to more than ${MAX_DECOMPRESSED_BYTES} bytes` : `the gzip batch is corrupt`);
    });
    spend(decompressed.length);
    records = new Reader(decompressed);
  } else if (codec === 0) {
    spend(reader.remaining());
  } else {
    throw new BatchError(`the batch uses compression codec ${codec} (${['none', 'gzip', 'snappy', 'lz4', 'zstd'][codec] ?? 'unknown'}), which this client cannot read`);
  }
  const out: BatchRecord[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = records.bytes();
    if (bytes === null) throw new BatchError('a record has no bytes');
    out.push(readRecord(new Reader(bytes), context));
  }
  return out;
}

function readRecord(reader: Reader, context: BatchContext): BatchRecord {
  const attributes = reader.int8();
  const timestampDelta = reader.varlong();
  const offsetDelta = reader.varint();
  const key = reader.bytes();
  const value = reader.bytes();
  const headerCount = reader.varint();
  const headers: BatchRecord['headers'] = {};
  for (let i = 0; i < headerCount; i++) {
    const name = reader.bytes()?.toString('utf8') ?? '';
    const headerValue = reader.bytes();
    if (i >= MAX_HEADERS) continue;
    const seen = Object.hasOwn(headers, name) ? headers[name] : undefined;
    // Own properties only (a header named __proto__ is just a header), repeated names as an array.
    const next = seen === undefined ? headerValue : Array.isArray(seen) ? (seen.push(headerValue), seen) : [seen, headerValue];
    Object.defineProperty(headers, name, { value: next, enumerable: true, writable: true, configurable: true });
  }
  const timestamp = context.timestampType === LOG_APPEND_TIME && context.maxTimestamp ? context.maxTimestamp : String(BigInt(context.firstTimestamp) + timestampDelta);
  return {
    magicByte: context.magicByte,
    attributes,
    timestamp,
    offset: String(BigInt(context.firstOffset) + BigInt(offsetDelta)),
    key,
    value,
    headers,
    isControlRecord: context.isControlBatch,
    batchContext: context,
  };
}

/** The one record a batch that cannot be decoded turns into: at its last offset, with the reason. */
function placeholder(context: BatchContext, why: string): BatchRecord {
  const last = BigInt(context.firstOffset) + BigInt(context.lastOffsetDelta);
  return {
    magicByte: context.magicByte,
    attributes: 0,
    timestamp: context.timestampType === LOG_APPEND_TIME ? context.maxTimestamp : context.firstTimestamp,
    offset: String(last),
    key: null,
    value: null,
    headers: { [BATCH_ERROR_HEADER]: Buffer.from(`offsets ${context.firstOffset}-${last}: ${why}`) },
    isControlRecord: context.isControlBatch,
    batchContext: context,
  };
}

class BatchError extends Error {
  override readonly name = 'BatchError';
}

function reason(err: unknown): string {
  if (err instanceof BatchError) return err.message;
  return `the batch is corrupt (${err instanceof Error ? err.message : String(err)})`;
}
