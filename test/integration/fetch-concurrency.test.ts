import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushCommit, readRefs, tempDir } from '../helpers/git.js';
import { fetchFixture, type FetchFixture } from './fetch-fixture.js';

interface Interval {
  gitDir: string;
  start: number;
  end: number;
}

/**
 * git on PATH is a wrapper around the real git that records when each `git fetch` starts and
 * ends (and stretches it by one second), so concurrency is observable from outside the fetcher.
 */
async function recordingGit(): Promise<{ dir: string; log: string }> {
  const realGit = (await promisify(execFile)('sh', ['-c', 'command -v git'])).stdout.trim();
  const dir = await tempDir('pullrep-gitwrap-');
  const log = join(dir, 'fetches.log');
  const script = `#!/bin/sh
is_fetch=0; gitdir=
for a in "$@"; do
  case "$a" in fetch) is_fetch=1 ;; --git-dir=*) gitdir="\${a#--git-dir=}" ;; esac
done
if [ $is_fetch = 0 ]; then exec ${realGit} "$@"; fi
start=$(date +%s%3N); sleep 1
${realGit} "$@"; rc=$?
echo "$start $(date +%s%3N) $gitdir" >> ${log}
exit $rc
`;
  await writeFile(join(dir, 'git'), script);
  await chmod(join(dir, 'git'), 0o755);
  return { dir, log };
}

function maxOverlap(intervals: Interval[]): number {
  const points = intervals.flatMap((i) => [
    { t: i.start, d: 1 },
    { t: i.end, d: -1 },
  ]);
  points.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const p of points) max = Math.max(max, (now += p.d));
  return max;
}

describe('concurrency', () => {
  let fx: FetchFixture;
  let log = '';
  beforeAll(async () => {
    const wrapper = await recordingGit();
    log = wrapper.log;
    fx = await fetchFixture({
      fetch: { concurrency: 2 },
      deps: { env: { ...process.env, PATH: `${wrapper.dir}:${process.env.PATH ?? ''}` } },
    });
  });
  afterAll(async () => fx.close());

  it('runs at most fetchConcurrency repositories at once and one sync per repository at a time', async () => {
    const repos = await Promise.all([1, 2, 3, 4].map(() => fx.newRepo()));
    for (const repo of repos) await pushCommit(repo.primary, 'main');
    // create the replicas first (clone), then measure incremental fetches only
    await Promise.all(repos.map((repo) => fx.fetcher.syncRefs(repo.name, ['refs/heads/main'])));
    for (const repo of repos) {
      await pushCommit(repo.primary, 'main');
      await pushCommit(repo.primary, 'topic');
    }
    await writeFile(log, '');
    const calls = repos.flatMap((repo) => [
      fx.fetcher.syncRefs(repo.name, ['refs/heads/main']),
      fx.fetcher.syncRefs(repo.name, ['refs/heads/topic']),
    ]);
    await Promise.all(calls);
    for (const repo of repos) expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));

    const intervals: Interval[] = (await readFile(log, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [start, end, gitDir] = line.split(' ');
        return { start: Number(start), end: Number(end), gitDir: gitDir ?? '' };
      });
    expect(intervals).toHaveLength(8);
    expect(maxOverlap(intervals)).toBe(2);
    for (const repo of repos) {
      const own = intervals.filter((i) => i.gitDir === repo.replica);
      expect(own).toHaveLength(2);
      expect(maxOverlap(own)).toBe(1);
    }
  });
});
