import type { PublishOptions } from '../config/index.js';
import type { KafkaClient } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { eventRecords, refsUpdatedEvents } from './events.js';
import { publishRecords, type PublishResult } from './publisher.js';
import { deriveRepoName } from './repo-name.js';
import { openPublishing } from './setup.js';
import { parseRefLines, type HookType } from './stdin-parser.js';

export interface PublishInput {
  options: PublishOptions;
  logger: Logger;
  /** The Kafka client, made only when an event has to go out. */
  kafka: () => KafkaClient;
  /** What git wrote on the hook's stdin. */
  input: string;
  hook: HookType;
  repo?: string | undefined;
  gitDir?: string | undefined;
  cwd: string;
  now?: () => number;
}

export interface PublishOutcome {
  repo: string;
  refs: number;
  events: number;
  result: PublishResult;
  spoolDir: string;
}

/**
 * `pullrep publish`: validates everything first (a bad line or an unsafe name publishes
 * nothing), then publishes the push as one event, or several when it is huge.
 * Returns undefined when there is nothing to publish.
 */
export async function runPublish(p: PublishInput): Promise<PublishOutcome | undefined> {
  const refs = parseRefLines(p.input, p.hook);
  const repo = deriveRepoName({ repo: p.repo, gitDir: p.gitDir, cwd: p.cwd, root: p.options.root });
  if (refs.length === 0) return undefined;
  const now = p.now ?? Date.now;
  const events = refsUpdatedEvents({
    repo,
    origin: p.options.origin,
    refs,
    maxBytes: p.options.maxEventBytes,
    now: () => new Date(now()),
  });
  const publishing = openPublishing({ options: p.options, logger: p.logger, kafka: p.kafka, now });
  try {
    const result = await publishRecords(eventRecords(events, p.options.topic), publishing);
    p.logger.debug({ repo, refs: refs.length, events: events.length, ...result, error: result.error?.message }, 'published');
    return { repo, refs: refs.length, events: events.length, result, spoolDir: publishing.spool.dir };
  } finally {
    await publishing.close();
  }
}
