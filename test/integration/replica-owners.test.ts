import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { git, pushCommit, tempDir } from '../helpers/git.js';
import { waitFor } from '../helpers/wait.js';
import { committedOffsets, PULLREP_BIN, replicaFixture, groupMembers, type ReplicaFixture } from './replica-fixture.js';

/**
 * One owner per repository: the processes of one replica share its replica.root, and however the
 * group rebalances (processes joining, leaving on SIGTERM), no two git processes ever sync one
 * repository at the same time. A `git` on PATH in front of the real one records when each fetch
 * and clone starts and ends, and makes each last a while, so an overlap would show.
 */

let fx: ReplicaFixture | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await fx?.close();
  fx = undefined;
});

/** A directory with a `git` that logs "start|end <ns> <pid> <pullrep pid> <args>" for fetch and clone and sleeps a little in them. */
async function recordingGit(): Promise<{ dir: string; log: string }> {
  const dir = await tempDir('pullrep-git-wrapper-');
  const log = join(dir, 'syncs.log');
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  await writeFile(
    join(dir, 'git'),
    `#!/bin/sh
case " $* " in
  *" fetch "*|*" clone "*)
    echo "start $(date +%s%N) $$ $PPID $*" >>'${log}'
    sleep 0.2
    '${real}' "$@"
    status=$?
    echo "end $(date +%s%N) $$ $PPID $*" >>'${log}'
    exit $status ;;
esac
exec '${real}' "$@"
`,
  );
  await chmod(join(dir, 'git'), 0o755);
  await writeFile(log, '');
  return { dir, log };
}

/** Each sync's repository (from the primary URL in its arguments), start and end. */
interface Sync {
  repo: string;
  pid: string;
  /** The pullrep process that ran it. */
  owner: string;
  command: string;
  start: bigint;
  end: bigint;
}

function syncsOf(log: string, url: string): Sync[] {
  const open = new Map<string, { repo: string; start: bigint }>();
  const syncs: Sync[] = [];
  for (const line of log.split('\n')) {
    const match = /^(start|end) (\d+) (\d+) (\d+) (.*)$/.exec(line);
    if (!match) continue;
    const [, kind, at, pid, owner, args] = match as unknown as [string, string, string, string, string, string];
    const repo = new RegExp(`${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(\\S+)`).exec(args)?.[1];
    if (!repo) continue;
    if (kind === 'start') open.set(pid, { repo, start: BigInt(at) });
    else {
      const began = open.get(pid);
      if (began) syncs.push({ repo, pid, owner, command: / (fetch|clone) /.exec(` ${args} `)?.[1] ?? '?', start: began.start, end: BigInt(at) });
      open.delete(pid);
    }
  }
  return syncs;
}

function overlaps(syncs: Sync[]): string[] {
  const found: string[] = [];
  const byRepo = Map.groupBy(syncs, (s) => s.repo);
  for (const [repo, list] of byRepo) {
    list.sort((a, b) => (a.start < b.start ? -1 : 1));
    for (let i = 1; i < list.length; i++) {
      const [prev, cur] = [list[i - 1], list[i]];
      if (prev && cur && cur.start < prev.end) found.push(`${repo}: ${prev.command} of process ${prev.owner} and ${cur.command} of process ${cur.owner}`);
    }
  }
  return found;
}

function startProcess(f: ReplicaFixture, path: string): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [PULLREP_BIN, 'replica'], { env: { ...f.env, PATH: path }, stdio: ['ignore', 'ignore', 'ignore'] });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited };
}

/** A new commit on main, made in the bare repository itself. */
async function advance(repo: string): Promise<string> {
  const tree = (await git(['rev-parse', 'main^{tree}'], { cwd: repo })).trim();
  const commit = (await git(['commit-tree', tree, '-p', 'main', '-m', `advance ${Date.now()}`], { cwd: repo })).trim();
  await git(['update-ref', 'refs/heads/main', commit], { cwd: repo });
  return commit;
}

describe('one owner per repository', () => {
  it('never syncs one repository in two processes at once while three processes join and leave the group', async () => {
    fx = await replicaFixture({ partitions: 3 });
    const f = fx;
    const wrapper = await recordingGit();
    const path = `${wrapper.dir}:${process.env.PATH ?? ''}`;
    const repos = await Promise.all(Array.from({ length: 6 }, () => f.newRepo()));
    for (const repo of repos) await pushCommit(repo.primary);

    // Events keep coming while the group changes: every repository, again and again.
    let producing = true;
    let produced = 0;
    const producer = (async () => {
      for (let i = 0; producing; i++) {
        const repo = repos[i % repos.length];
        if (!repo) break;
        await f.produce(f.refsEvent(repo.name, { 'refs/heads/main': await advance(repo.primary) }), repo.name);
        produced++;
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();
    const sizeIs = (n: number) => waitFor(async () => (await groupMembers(f)) === n, { timeoutMs: 60_000, what: `${n} processes in the group` });
    const a = startProcess(f, path);
    await sizeIs(1);
    const b = startProcess(f, path);
    await sizeIs(2);
    const c = startProcess(f, path);
    await sizeIs(3);
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    await sizeIs(2);
    const d = startProcess(f, path);
    await sizeIs(3);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    await sizeIs(2);
    producing = false;
    await producer;

    for (const repo of repos) await f.converged(repo, 60_000);
    await waitFor(async () => (await committedOffsets(f, f.config.topics.events)) >= BigInt(produced), { timeoutMs: 60_000, what: 'every event committed' });
    for (const p of [c, d]) p.child.kill('SIGTERM');
    for (const p of [c, d]) expect(await p.exited).toBe(0);

    const syncs = syncsOf(await readFile(wrapper.log, 'utf8'), f.server.url);
    // The processes did the syncing, every repository many times, in more than one process.
    expect(syncs.length).toBeGreaterThan(repos.length * 2);
    expect(new Set(syncs.map((s) => s.repo))).toEqual(new Set(repos.map((r) => r.name)));
    expect(overlaps(syncs)).toEqual([]);
  }, 240_000);
});
