import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeEvent, type RefEvent } from '../events/index.js';
import type { OutgoingRecord } from '../kafka/index.js';
import { InvalidSpoolFileError, SpoolError } from './errors.js';
import { eventRecords } from './events.js';
import { parsePush, PUSH_SUFFIX, spooledAtOf, type PushContext } from './push-entry.js';

/**
 * The primary's spool: what Kafka has not acknowledged yet, one file each, named so that names
 * sort in the order things happened (the first 15 characters are the epoch ms the file was
 * written). Two kinds of file live there: `.event`, an encoded event written by `pullrep publish`,
 * and `.push`, a push as the spooling hook wrote it (push-entry.ts), turned into events when it
 * is sent. A file is complete or absent: it is written to a temporary name, fsynced, renamed into
 * place and the directory fsynced. It is deleted only after the broker acknowledged all of it.
 */
export const SPOOL_SUFFIX = '.event';
/** What an invalid file is renamed to: `<name>.invalid`. */
export const INVALID_SUFFIX = '.invalid';

/** One spool file, read and validated: the records it stands for (none for an empty push). */
export interface SpoolFile {
  name: string;
  /** Epoch ms the file was written. */
  writtenAt: number;
  repo: string;
  events: RefEvent[];
  records: OutgoingRecord[];
}

/** What `spool list` shows of one waiting event. */
export interface SpoolItem {
  name: string;
  topic: string;
  repo: string;
  kind: string;
  refs: number;
  id: string;
  spooledAt: Date;
  /** Set when the file cannot be read back as a valid event. */
  problem?: string;
  /** Set with `problem`: true when the file is kept to be sent later (it cannot be read or placed now), false when it is never sent (invalid). */
  stuck?: boolean;
}

let sequence = 0;

export class Spool {
  constructor(
    readonly dir: string,
    private readonly now: () => number = Date.now,
    /** How `.push` files become events; without it they are left alone (never sent, never moved). */
    private readonly push?: PushContext,
  ) {}

  /** Writes the records durably, in order; returns their file names. */
  async append(records: OutgoingRecord[]): Promise<string[]> {
    await this.ensureDir();
    const names: string[] = [];
    for (const record of records) {
      sequence += 1;
      const name = `${String(this.now()).padStart(15, '0')}-${String(sequence).padStart(6, '0')}-${process.pid}-${randomBytes(4).toString('hex')}${SPOOL_SUFFIX}`;
      if (record.value === null) throw new SpoolError('the spool holds events, never tombstones');
      const value = typeof record.value === 'string' ? record.value : record.value.toString('utf8');
      await this.writeDurably(name, JSON.stringify({ topic: record.topic, key: record.key, value }));
      names.push(name);
    }
    await this.syncDir();
    return names;
  }

  /** Names of the waiting events, oldest first. */
  async names(): Promise<string[]> {
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new SpoolError(`cannot read the spool ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
    const sendable = (f: string) => f.endsWith(SPOOL_SUFFIX) || (this.push !== undefined && f.endsWith(PUSH_SUFFIX));
    return files.filter((f) => sendable(f) && !f.startsWith('.')).sort();
  }

  async has(name: string): Promise<boolean> {
    return stat(join(this.dir, name)).then(
      () => true,
      () => false,
    );
  }

  /**
   * Reads one spool file. Throws InvalidSpoolFileError when it is not a valid event or push, a
   * SpoolError when it cannot be read, and the ENOENT error when it is gone (delivered).
   */
  async read(name: string): Promise<SpoolFile> {
    let text: string;
    try {
      text = await readFile(join(this.dir, name), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw err;
      const Problem = code === 'EISDIR' ? InvalidSpoolFileError : SpoolError;
      throw new Problem(`cannot read the spool file ${name}: ${(err as Error).message}`, { cause: err });
    }
    const writtenAt = spooledAtOf(name);
    if (name.endsWith(PUSH_SUFFIX) && this.push) {
      const { repo, events } = parsePush(name, text, writtenAt, this.push);
      return { name, writtenAt, repo, events, records: eventRecords(events, this.push.topic) };
    }
    try {
      const o = JSON.parse(text) as Record<string, unknown>;
      if (typeof o.topic !== 'string' || typeof o.key !== 'string' || typeof o.value !== 'string') {
        throw new Error('topic, key and value must be strings');
      }
      const event = decodeEvent(o.value);
      if (event.repo !== o.key) throw new Error(`key ${o.key} is not the event's repository ${event.repo}`);
      return { name, writtenAt, repo: event.repo, events: [event], records: [{ topic: o.topic, key: o.key, value: o.value }] };
    } catch (err) {
      throw new InvalidSpoolFileError(`spooled event ${name} is invalid: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Files moved aside as invalid (`<name>.invalid`), kept for an operator. */
  async setAside(): Promise<string[]> {
    const files = await readdir(this.dir).catch(() => [] as string[]);
    return files.filter((f) => f.endsWith(INVALID_SUFFIX) && !f.startsWith('.')).sort();
  }

  /** What waits, oldest first, then what was moved aside as invalid. */
  async list(): Promise<SpoolItem[]> {
    const items: SpoolItem[] = [];
    for (const name of await this.names()) {
      const spooledAt = new Date(spooledAtOf(name));
      try {
        const { records, events, repo } = await this.read(name);
        const refs = events.reduce((n, e) => n + (e.kind === 'refs-updated' ? e.refs.length : 0), 0);
        const kind = name.endsWith(PUSH_SUFFIX) ? 'push' : (events[0]?.kind ?? '');
        items.push({ name, topic: records[0]?.topic ?? '', repo, kind, refs, id: name.endsWith(PUSH_SUFFIX) ? '' : (events[0]?.id ?? ''), spooledAt });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // delivered meanwhile
        const stuck = !(err instanceof InvalidSpoolFileError);
        items.push({ name, topic: '', repo: '', kind: '', refs: 0, id: '', spooledAt, problem: (err as Error).message, stuck });
      }
    }
    for (const name of await this.setAside()) {
      const problem = 'refused as invalid and moved aside: never sent; the log of the process that moved it says why; delete it once looked at';
      items.push({ name, topic: '', repo: '', kind: '', refs: 0, id: '', spooledAt: new Date(spooledAtOf(name)), problem, stuck: false });
    }
    return items;
  }

  /** Forgets a delivered event. Deleting twice is fine (two drains may race). */
  async remove(name: string): Promise<void> {
    await unlink(join(this.dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Moves an unreadable file aside (kept for an operator) so it no longer blocks the queue. */
  async quarantine(name: string): Promise<string> {
    const aside = `${name}${INVALID_SUFFIX}`;
    await rename(join(this.dir, name), join(this.dir, aside));
    return aside;
  }

  private async ensureDir(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o750 });
    } catch (err) {
      throw new SpoolError(`cannot create the spool ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  private async writeDurably(name: string, content: string): Promise<void> {
    const temp = join(this.dir, `.tmp-${name}`);
    try {
      const file = await open(temp, 'wx', 0o640);
      try {
        await file.writeFile(content);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, join(this.dir, name));
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw new SpoolError(`cannot write to the spool ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
  }

  private async syncDir(): Promise<void> {
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
