import { makeEvent, repoNameProblem, type FullSyncEvent } from '../events/index.js';
import { eventRecords } from './events.js';
import { publishRecords } from './publisher.js';
import { findBareRepos, repoNameUnder } from '../repos/scan.js';
import type { Publishing } from './setup.js';

/** Where progress goes: a bar or log lines, chosen by the caller. */
export interface ProgressReporter {
  update(done: number): void;
  finish(): void;
}

export interface BackfillInput {
  root: string;
  origin: string;
  topic: string;
  publishing: Publishing;
  /** Created once the number of repositories is known. */
  progress?: (total: number) => ProgressReporter;
  batchSize?: number;
  now?: () => Date;
}

export interface BackfillSummary {
  found: number;
  published: number;
  spooled: number;
  failed: number;
  /** One line per failed repository. */
  problems: string[];
}

/**
 * `pullrep backfill`: a full-sync event (reason "backfill") for every repository under
 * primary.root, in batches. Once Kafka failed to acknowledge a batch, the rest go straight to
 * the spool instead of waiting for the broker again and again.
 */
export async function backfill(input: BackfillInput): Promise<BackfillSummary> {
  const repos = await findBareRepos(input.root);
  const summary: BackfillSummary = { found: repos.length, published: 0, spooled: 0, failed: 0, problems: [] };
  const progress = input.progress?.(repos.length);
  const batchSize = input.batchSize ?? 200;
  let brokerDown = false;
  for (let i = 0; i < repos.length; i += batchSize) {
    const events: FullSyncEvent[] = [];
    for (const path of repos.slice(i, i + batchSize)) {
      const repo = repoNameUnder(input.root, path);
      const problem = repoNameProblem(repo);
      if (problem) {
        summary.failed += 1;
        summary.problems.push(`${repo}: repository name ${problem}`);
        continue;
      }
      events.push(makeEvent<FullSyncEvent>({ kind: 'full-sync', repo, origin: input.origin, reason: 'backfill' }, input.now));
    }
    const records = eventRecords(events, input.topic);
    try {
      if (brokerDown) {
        summary.spooled += (await input.publishing.spool.append(records)).length;
      } else {
        const result = await publishRecords(records, input.publishing);
        summary.published += result.delivered;
        summary.spooled += result.spooled;
        brokerDown = result.spooled > 0;
      }
    } catch (err) {
      summary.failed += events.length;
      summary.problems.push(`${events.length} repositories: ${(err as Error).message}`);
    }
    progress?.update(Math.min(i + batchSize, repos.length));
  }
  progress?.finish();
  return summary;
}
