import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TransientFetchError } from '../../src/fetch/index.js';
import { git, pushCommit, readRefs, tempDir } from '../helpers/git.js';
import { fetchFixture, rejection } from './fetch-fixture.js';

/** git on PATH that makes every `git clone` fail while the file `failClone` exists. */
async function cloneFailingGit(): Promise<{ dir: string; failClone: string }> {
  const realGit = await new Promise<string>((resolve, reject) =>
    execFile('sh', ['-c', 'command -v git'], (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))),
  );
  const dir = await tempDir('pullrep-clonefail-');
  const failClone = join(dir, 'fail-clone');
  const script = `#!/bin/sh
for a in "$@"; do
  if [ "$a" = clone ] && [ -e ${failClone} ]; then echo 'fatal: early EOF' >&2; exit 128; fi
done
exec ${realGit} "$@"
`;
  await writeFile(join(dir, 'git'), script);
  await chmod(join(dir, 'git'), 0o755);
  return { dir, failClone };
}

describe('re-clone of a damaged replica', () => {
  it('keeps the old copy when the fresh clone fails, and swaps in a clone once one succeeds', async () => {
    const wrapper = await cloneFailingGit();
    const fx = await fetchFixture({
      fetch: { recloneAfterFailures: 1 },
      deps: { env: { ...process.env, PATH: `${wrapper.dir}:${process.env.PATH ?? ''}` } },
    });
    try {
      const repo = await fx.newRepo();
      await pushCommit(repo.primary, 'main');
      await pushCommit(repo.primary, 'other');
      await fx.fetcher.syncRefs(repo.name, ['refs/heads/main', 'refs/heads/other']);
      const replicated = await readRefs(repo.replica);
      await pushCommit(repo.primary, 'main');
      const packDir = join(repo.replica, 'objects', 'pack');
      for (const name of await readdir(packDir)) await rm(join(packDir, name));

      await writeFile(wrapper.failClone, '');
      const error = await rejection(fx.fetcher.syncRefs(repo.name, ['refs/heads/main']));
      expect(error).toBeInstanceOf(TransientFetchError);
      expect(error.message).toMatch(/git clone failed/);
      // the old copy is where it was, refs and all, and no half-made clone is left behind
      expect(existsSync(join(repo.replica, 'HEAD'))).toBe(true);
      expect(await readRefs(repo.replica)).toEqual(replicated);
      expect(await readdir(join(fx.replicaRoot, '.pullrep-tmp'))).toEqual([]);

      await rm(wrapper.failClone);
      const recovered = await fx.fetcher.syncRefs(repo.name, ['refs/heads/main']);
      expect(recovered.recloned).toBe(true);
      expect(await readRefs(repo.replica)).toEqual(await readRefs(repo.primary));
      await git(['fsck', '--no-progress'], { cwd: repo.replica });
      expect(await readdir(join(fx.replicaRoot, '.pullrep-tmp'))).toEqual([]);
    } finally {
      await fx.close();
    }
  });
});
