import { quote, repoNameProblem } from '../events/index.js';
import type { ConsumedMessage } from '../kafka/index.js';
import type { Logger } from '../log/index.js';
import { CatalogDecodeError, decodeCatalogRecord, type CatalogRecord } from './record.js';

/** A change of the catalog seen after it was read to its end. */
export type CatalogChange = { repo: string; record: CatalogRecord } | { repo: string; record: null };

/**
 * The replica's view of the catalog (topics.catalog): the last record of every repository, read
 * from the compacted topic and kept up to date. A malformed record is logged and skipped (the
 * last good value stays); a key that is not a safe repository name is refused, as in events.
 */
export class CatalogView {
  private readonly records = new Map<string, CatalogRecord>();
  private readonly tombstones = new Set<string>();
  private readonly listeners: Array<(change: CatalogChange) => void> = [];
  private loaded = false;
  skipped = 0;

  constructor(private readonly logger: Logger) {}

  /** Takes one record of the catalog topic. */
  apply(message: ConsumedMessage): void {
    const key = message.key?.toString('utf8') ?? '';
    const problem = key === '' ? 'is empty' : repoNameProblem(key);
    if (problem) return this.skip({ key: key.slice(0, 200) }, `a catalog record's repository name ${problem}; skipped`);
    let record: CatalogRecord | null;
    try {
      record = decodeCatalogRecord(key, message.value);
    } catch (err) {
      if (!(err instanceof CatalogDecodeError)) throw err;
      return this.skip({ repo: key, err: err.message }, `catalog record of ${quote(key)} skipped`);
    }
    if (record) {
      this.records.set(key, record);
      this.tombstones.delete(key);
    } else {
      this.records.delete(key);
      this.tombstones.add(key);
    }
    if (this.loaded) for (const listener of this.listeners) listener({ repo: key, record });
  }

  /** The catalog was read to its end: from now on changes go to the listeners. */
  markLoaded(): void {
    this.loaded = true;
  }

  get ready(): boolean {
    return this.loaded;
  }

  onChange(listener: (change: CatalogChange) => void): void {
    this.listeners.push(listener);
  }

  get(repo: string): CatalogRecord | undefined {
    return this.records.get(repo);
  }

  /** The primary deleted it (a tombstone is the last word on it). */
  deleted(repo: string): boolean {
    return this.tombstones.has(repo);
  }

  repositories(): string[] {
    return [...this.records.keys()].sort();
  }

  deletedRepositories(): string[] {
    return [...this.tombstones].sort();
  }

  get size(): number {
    return this.records.size;
  }

  private skip(fields: Record<string, unknown>, message: string): void {
    this.skipped += 1;
    this.logger.warn(fields, message);
  }
}
