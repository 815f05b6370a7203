import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitOutcome } from './git-process.js';
import { tempPath } from './clone.js';
import { readLocalRefs } from './local-refs.js';
import type { RefSyncJob, RefValues } from './ref-sync-job.js';
import { fetchArgs, refspecs } from './fetch-args.js';
import { updateRefs, type RefUpdate } from './update-refs.js';

/**
 * Fetches into a small quarantine repository that borrows the replica's objects
 * (objects/info/alternates) and sees only the replica's refs being fetched (plus the default
 * branch) through core.alternateRefsPrefixes. git then never walks the replica's other refs,
 * which is what makes a one-ref fetch slow in a repository with hundreds of thousands of refs.
 * The received pack is moved into the replica and the refs are updated in one update-ref
 * transaction whose old values are the ones read before the fetch.
 */
export async function fetchIntoQuarantine(job: RefSyncJob, refs: string[], before: RefValues): Promise<GitOutcome> {
  const dir = await tempPath(job.root, 'quarantine');
  try {
    await createQuarantine(dir, job.gitDir);
    const prefixes = [...refs, ...(await defaultBranch(job.gitDir))];
    const fetched = await job.git.attempt(fetchArgs(job.url), {
      gitDir: dir,
      what: 'git fetch',
      input: refspecs(refs),
      config: [`core.alternateRefsPrefixes=${prefixes.join(' ')}`, 'fetch.unpackLimit=1', 'transfer.unpackLimit=1'],
    });
    if (fetched.code !== 0) return fetched;
    await moveObjects(join(dir, 'objects'), join(job.gitDir, 'objects'));
    const received = readLocalRefs(dir, refs);
    const updates: RefUpdate[] = [];
    for (const ref of refs) {
      const value = received.get(ref);
      const old = before.get(ref);
      if (value && value !== old) updates.push({ ref, newOid: value, oldOid: old ?? undefined });
    }
    const updated = await updateRefs(job.git, job.gitDir, updates);
    return updated.code === 0 ? fetched : updated;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function createQuarantine(dir: string, replica: string): Promise<void> {
  await mkdir(join(dir, 'objects', 'info'), { recursive: true });
  await mkdir(join(dir, 'objects', 'pack'));
  await mkdir(join(dir, 'refs', 'heads'), { recursive: true });
  await writeFile(join(dir, 'HEAD'), 'ref: refs/heads/main\n');
  // The quarantine must use the replica's object format, or git reads its packs as SHA-1.
  const format = await objectFormat(replica);
  const config = format === 'sha1' ? '[core]\n\trepositoryformatversion = 0\n\tbare = true\n'
    : `[core]\n\trepositoryformatversion = 1\n\tbare = true\n[extensions]\n\tobjectFormat = ${format}\n`;
  await writeFile(join(dir, 'config'), config);
  await writeFile(join(dir, 'objects', 'info', 'alternates'), join(replica, 'objects') + '\n');
}

/** The replica's object format (extensions.objectFormat in its config; sha1 when absent). */
async function objectFormat(gitDir: string): Promise<string> {
  const config = await readFile(join(gitDir, 'config'), 'utf8').catch(() => '');
  return /^\s*objectformat\s*=\s*(\w+)\s*$/im.exec(config)?.[1]?.toLowerCase() ?? 'sha1';
}

/** The ref HEAD of the replica points at, as an extra negotiation tip for new branches. */
async function defaultBranch(gitDir: string): Promise<string[]> {
  const head = await readFile(join(gitDir, 'HEAD'), 'utf8').catch(() => '');
  const match = /^ref: (refs\/\S+)/.exec(head);
  return match?.[1] ? [match[1]] : [];
}

/** Moves packs (the .idx last: git discovers a pack by its index) and any loose objects. */
async function moveObjects(from: string, to: string): Promise<void> {
  const packs = await readdir(join(from, 'pack')).catch(() => [] as string[]);
  const order = (name: string): number => (name.endsWith('.idx') ? 2 : name.endsWith('.keep') ? 3 : 1);
  for (const name of packs.filter((n) => n.startsWith('pack-')).sort((a, b) => order(a) - order(b))) {
    if (name.endsWith('.keep')) continue;
    await rename(join(from, 'pack', name), join(to, 'pack', name));
  }
  for (const sub of await readdir(from)) {
    if (!/^[0-9a-f]{2}$/.test(sub)) continue;
    await mkdir(join(to, sub), { recursive: true });
    for (const name of await readdir(join(from, sub))) {
      await rename(join(from, sub, name), join(to, sub, name));
    }
  }
}
