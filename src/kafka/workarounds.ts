import { createRequire } from 'node:module';
import type { Logger } from '../log/index.js';
import { stopIdleRequestTimers } from './idle-timers.js';
import { decodeRecordBatch, type FetchDecoder, type PartialBatchError } from './record-batch.js';

/**
 * The three places pullrep reaches into kafkajs's internals, installed once, explicitly, by the
 * process's composition root (the CLI context), and only on the kafkajs version they were
 * written for:
 * - idle-timers.ts stops a 1 ms timer kafkajs re-arms on every idle connection (3–4% of a core
 *   per idle consumer);
 * - producer.ts tells a producer's cluster its topics before it connects, so connecting does not
 *   fetch the metadata of every topic of the cluster;
 * - record-batch.ts decodes fetched record batches in place of kafkajs's decoder: bounded
 *   decompression, headers in linear time, and a batch it cannot read settled instead of failing
 *   the consumer forever.
 * On any other version none is installed (kafkajs then works as shipped) and a warning says so.
 * All three go away with the client: see the README's note on replacing kafkajs.
 */
export const WORKAROUNDS_KAFKAJS_VERSION = '2.2.4';

export interface WorkaroundState {
  /** The kafkajs version found. */
  version: string;
  idleTimers: boolean;
  producerTopics: boolean;
  batchDecoder: boolean;
}

let state: WorkaroundState | undefined;

export function kafkajsVersion(): string {
  try {
    return (createRequire(import.meta.url)('kafkajs/package.json') as { version?: unknown }).version?.toString() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Installs both workarounds (once per process) and returns what is in force. */
export function installKafkaWorkarounds(logger: Pick<Logger, 'debug' | 'warn'>, version: string = kafkajsVersion()): WorkaroundState {
  if (state) return state;
  if (!writtenFor(version, logger)) {
    state = { version, idleTimers: false, producerTopics: false, batchDecoder: false };
    return state;
  }
  state = { version, idleTimers: stopIdleRequestTimers(logger), producerTopics: true, batchDecoder: replaceBatchDecoder(logger) };
  return state;
}

/** Marks the decoder this module put in kafkajs's module cache (the cache outlives a module instance in tests). */
const OURS = Symbol.for('pullrep.recordBatchDecoder');

/** kafkajs's record batch decoder, relative to the package (it has no exports map). */
const BATCH_DECODER_MODULE = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';

/**
 * Puts record-batch.ts in kafkajs's module cache under the name of its own batch decoder, before
 * kafkajs loads it (it does so lazily, with the first fetch response decoder): every fetch
 * response is then read by ours. Once kafkajs has loaded its decoder it is too late, and
 * nothing is replaced.
 */
function replaceBatchDecoder(logger: Pick<Logger, 'debug' | 'warn'>): boolean {
  const require = createRequire(import.meta.url);
  let path: string;
  let partial: PartialBatchError;
  try {
    path = require.resolve(BATCH_DECODER_MODULE);
    partial = (require('kafkajs/src/errors.js') as { KafkaJSPartialMessageError: PartialBatchError }).KafkaJSPartialMessageError;
  } catch (err) {
    logger.warn({ problem: err instanceof Error ? err.message.split('\n')[0] : String(err) }, 'kafkajs record batch decoder left as it is');
    return false;
  }
  const cached = require.cache[path]?.exports as Record<symbol, unknown> | undefined;
  if (cached?.[OURS] === true) return true;
  if (cached) {
    logger.warn('kafkajs record batch decoder already loaded: left as it is (hostile batches can stall a partition)');
    return false;
  }
  const decoder = Object.assign((fetch: FetchDecoder) => decodeRecordBatch(fetch, partial), { [OURS]: true });
  require.cache[path] = { id: path, filename: path, loaded: true, exports: decoder } as NodeJS.Module;
  logger.debug('kafkajs record batch decoder replaced');
  return true;
}

/** Whether the workarounds were written for this kafkajs version; says at warn when not. */
export function writtenFor(version: string, logger: Pick<Logger, 'warn'>): boolean {
  if (version === WORKAROUNDS_KAFKAJS_VERSION) return true;
  logger.warn(
    { kafkajs: version, writtenFor: WORKAROUNDS_KAFKAJS_VERSION },
    'kafkajs workarounds not installed: this kafkajs version is not the one they were written for (an idle replica uses more CPU; producers fetch all topic metadata on connect; hostile record batches can stall a partition)',
  );
  return false;
}

/** What is installed now (nothing before installKafkaWorkarounds). */
export function workaroundState(): WorkaroundState {
  return state ?? { version: kafkajsVersion(), idleTimers: false, producerTopics: false, batchDecoder: false };
}
