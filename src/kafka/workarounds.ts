import { createRequire } from 'node:module';
import type { Logger } from '../log/index.js';
import { stopIdleRequestTimers } from './idle-timers.js';

/**
 * The two places pullrep reaches into kafkajs's internals, installed once, explicitly, by the
 * process's composition root (the CLI context), and only on the kafkajs version they were
 * written for:
 * - idle-timers.ts stops a 1 ms timer kafkajs re-arms on every idle connection (3–4% of a core
 *   per idle consumer);
 * - producer.ts tells a producer's cluster its topics before it connects, so connecting does not
 *   fetch the metadata of every topic of the cluster.
 * On any other version neither is installed (kafkajs then works as shipped) and a warning says so.
 * Both go away with the client: see the README's note on replacing kafkajs.
 */
export const WORKAROUNDS_KAFKAJS_VERSION = '2.2.4';

export interface WorkaroundState {
  /** The kafkajs version found. */
  version: string;
  idleTimers: boolean;
  producerTopics: boolean;
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
  if (version !== WORKAROUNDS_KAFKAJS_VERSION) {
    logger.warn(
      { kafkajs: version, writtenFor: WORKAROUNDS_KAFKAJS_VERSION },
      'kafkajs workarounds not installed: this kafkajs version is not the one they were written for (an idle replica uses more CPU; producers fetch all topic metadata on connect)',
    );
    state = { version, idleTimers: false, producerTopics: false };
    return state;
  }
  state = { version, idleTimers: stopIdleRequestTimers(logger), producerTopics: true };
  return state;
}

/** What is installed now (nothing before installKafkaWorkarounds). */
export function workaroundState(): WorkaroundState {
  return state ?? { version: kafkajsVersion(), idleTimers: false, producerTopics: false };
}
