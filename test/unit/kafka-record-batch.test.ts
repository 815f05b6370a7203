import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BATCH_ERROR_HEADER, decodeRecordBatch, MAX_DECODED_BYTES_PER_PART, MAX_DECOMPRESSED_BYTES, MAX_HEADERS } from '../../src/kafka/record-batch.js';

// kafkajs's own encoder and decoder, to hold ours against (test/setup-kafka.ts put ours in the
// module cache under the decoder's name; the original is loaded afresh from its file here).
const require = createRequire(import.meta.url);
type Encoded = { buffer: Buffer };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (o: Record<string, unknown>) => Promise<Encoded> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: Record<string, unknown>) => Encoded;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => { readInt64(): unknown; readInt32(): number; slice(n: number): { buffer: Buffer }; forward(n: number): void };
const { KafkaJSPartialMessageError } = require('kafkajs/src/errors.js') as { KafkaJSPartialMessageError: new (m: string) => Error };
const { Types } = require('kafkajs/src/protocol/message/compression/index.js') as { Types: { None: number; GZIP: number } };

function originalDecoder(): (d: unknown) => Promise<{ records: unknown[] }> {
  const path = require.resolve('kafkajs/src/protocol/recordBatch/v0/decoder.js');
  const ours = require.cache[path];
  delete require.cache[path];
  try {
    return require(path) as (d: unknown) => Promise<{ records: unknown[] }>;
  } finally {
    if (ours) require.cache[path] = ours;
  }
}

const ours = (buffer: Buffer) => decodeRecordBatch(new Decoder(buffer) as never, KafkaJSPartialMessageError);
const theirs = (buffer: Buffer) => originalDecoder()(new Decoder(buffer));

async function batch(records: Array<Record<string, unknown>>, options: Record<string, unknown> = {}): Promise<Buffer> {
  const encoded = records.map((r, i) => Record({ offsetDelta: i, timestampDelta: i * 10, ...r }));
  return (await RecordBatch({ firstOffset: '4200', firstTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_100, lastOffsetDelta: records.length - 1, records: encoded, ...options })).buffer;
}

/** Records as plain data, for comparing the two decoders (kafkajs keeps a reference to its batch context). */
const plain = (decoded: { records: unknown[] }) => JSON.parse(JSON.stringify(decoded.records, (k, v) => (k === 'batchContext' ? undefined : v)));

describe("pullrep's record batch decoder", () => {
  it.each([
    ['uncompressed', Types.None],
    ['gzip', Types.GZIP],
  ])('reads an %s batch exactly as kafkajs does: offsets, timestamps, keys, values, headers (repeated, empty)', async (_what, compression) => {
    const buffer = await batch(
      [
        { key: Buffer.from('r/a.git'), value: Buffer.from('{"v":1}'), headers: { 'pullrep-attempt': Buffer.from('2'), twice: [Buffer.from('a'), Buffer.from('b')] } },
        { key: null, value: Buffer.from('x'.repeat(5000)) },
        { key: Buffer.from('k'), value: null, headers: { empty: Buffer.alloc(0) } },
      ],
      { compression },
    );
    const mine = await ours(buffer);
    expect(plain(mine)).toEqual(plain(await theirs(buffer)));
    expect(mine.records.map((r) => r.offset)).toEqual(['4200', '4201', '4202']);
    expect(mine.lastOffsetDelta).toBe(2);
  });

  it(`reads 25,000 header names in linear time, keeping the first ${MAX_HEADERS}`, async () => {
    const headers = Object.fromEntries(Array.from({ length: 25_000 }, (_, i) => [`h${i}`, Buffer.from('v')]));
    const buffer = await batch([{ key: Buffer.from('k'), value: Buffer.from('{}'), headers }]);
    const started = performance.now();
    const mine = await ours(buffer);
    // kafkajs's own decoder copies the headers object once per header: about 85 s for this record.
    expect(performance.now() - started).toBeLessThan(5000);
    expect(Object.keys(mine.records[0]?.headers ?? {})).toHaveLength(MAX_HEADERS);
  });

  it('a header named __proto__ is an ordinary header', async () => {
    const buffer = await batch([{ key: null, value: Buffer.from('{}'), headers: { ['__proto__']: Buffer.from('x') } }]);
    const [record] = (await ours(buffer)).records;
    expect(Object.getPrototypeOf(record?.headers)).toBe(Object.prototype);
    expect(Object.keys(record?.headers ?? {})).toEqual(['__proto__']);
  });

  it('turns a gzip bomb into one placeholder record at the batch\'s last offset, without decompressing it whole', async () => {
    const plainBatch = await batch([{ key: null, value: Buffer.from('{}') }, { key: null, value: Buffer.from('{}') }]);
    // Swap the records for a gzip stream of 64 MiB of zeros, and mark the batch as gzip.
    const bomb = await promisify(gzip)(Buffer.alloc(4 * MAX_DECOMPRESSED_BYTES));
    const header = plainBatch.subarray(0, 61);
    const body = Buffer.concat([header, bomb]);
    body.writeInt32BE(body.length - 12, 8);
    body.writeInt16BE(Types.GZIP, 21);
    const rssBefore = process.memoryUsage().rss;
    const decoded = await ours(body);
    expect(decoded.records).toHaveLength(1);
    expect(decoded.records[0]?.offset).toBe('4201');
    expect(decoded.records[0]?.value).toBeNull();
    expect(String(decoded.records[0]?.headers[BATCH_ERROR_HEADER])).toMatch(/decompresses to more than/);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(2 * MAX_DECOMPRESSED_BYTES + 64 * 1024 * 1024);
  });

  it.each([
    [2, 'snappy'],
    [3, 'lz4'],
    [4, 'zstd'],
  ])('turns a batch compressed with codec %s (%s), which kafkajs cannot read, into a placeholder', async (codec, name) => {
    const buffer = await batch([{ key: null, value: Buffer.from('{}') }]);
    buffer.writeInt16BE(codec, 21);
    const decoded = await ours(buffer);
    expect(decoded.records).toHaveLength(1);
    expect(String(decoded.records[0]?.headers[BATCH_ERROR_HEADER])).toContain(name);
  });

  it('turns a batch whose header cannot be read into a placeholder at its first offset', async () => {
    const buffer = await batch([{ key: null, value: Buffer.from('{}') }]);
    // A batch length that leaves no room for the header: the batch ends after 6 bytes.
    const cut = Buffer.concat([buffer.subarray(0, 8), Buffer.from([0, 0, 0, 6]), buffer.subarray(12, 18)]);
    const decoded = await ours(cut);
    expect(decoded.records.map((r) => r.offset)).toEqual(['4200']);
    expect(String(decoded.records[0]?.headers[BATCH_ERROR_HEADER])).toMatch(/corrupt/);
  });

  it(`decodes at most ${MAX_DECODED_BYTES_PER_PART} bytes from one partition's part of a response; the rest waits for the next fetch`, async () => {
    const big = { key: null, value: Buffer.alloc(15 * 1024 * 1024) };
    const parts = await Promise.all([0, 1, 2].map((i) => batch([big], { compression: Types.GZIP, firstOffset: String(4200 + i) })));
    const response = new Decoder(Buffer.concat(parts));
    // Two batches fit (about 30 MiB); the third is left: kafkajs stops reading the part there,
    // and the consumer's next fetch starts at its offset.
    expect((await decodeRecordBatch(response as never, KafkaJSPartialMessageError)).records[0]?.offset).toBe('4200');
    expect((await decodeRecordBatch(response as never, KafkaJSPartialMessageError)).records[0]?.offset).toBe('4201');
    await expect(decodeRecordBatch(response as never, KafkaJSPartialMessageError)).rejects.toBeInstanceOf(KafkaJSPartialMessageError);
    // Alone at the start of a fetch, that batch is decoded.
    expect((await ours(parts[2] ?? Buffer.alloc(0))).records[0]?.value?.length).toBe(15 * 1024 * 1024);
  });

  it('throws kafkajs\'s partial-message error for a batch cut off at the end of a response', async () => {
    const buffer = await batch([{ key: null, value: Buffer.from('{}') }]);
    await expect(ours(buffer.subarray(0, buffer.length - 5))).rejects.toBeInstanceOf(KafkaJSPartialMessageError);
  });
});
