import { chmod, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PublishInputError } from './errors.js';
import { CHAINED_SUFFIX, HOOK_MARKER, hookScript, type HookScriptInput } from './hook-script.js';
import { otherHooksDir } from './hooks-path.js';
import { findBareRepos } from '../repos/scan.js';
import { HOOK_TYPES, type HookType } from './stdin-parser.js';

export type HookChange = 'installed' | 'chained' | 'updated' | 'unchanged' | 'failed';

export interface HookInstallResult {
  repo: string;
  hook: string;
  change: HookChange;
  /** pullrep's hook of the other type is installed too: every update would be published twice. */
  alsoInstalled?: HookType;
  /** core.hooksPath makes git run hooks from this directory instead: the installed hook never runs. */
  hooksDir?: string;
  /** Why the hook could not be installed (change 'failed'); the repository was left as it was. */
  error?: string;
}

async function readIfExists(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

/**
 * Installs the hook into one bare repository. An existing hook that is not ours is moved to
 * `<hook>.pullrep-chained` (ours runs it); ours is rewritten only when it differs, so running
 * this twice changes nothing.
 */
export async function installHook(repo: string, script: HookScriptInput): Promise<HookInstallResult> {
  const hook = join(repo, 'hooks', script.type);
  const wanted = hookScript(script);
  const current = await readIfExists(hook);
  const other = HOOK_TYPES.find((t) => t !== script.type);
  const hooksDir = await otherHooksDir(repo);
  const also = {
    ...(other && (await readIfExists(join(repo, 'hooks', other)))?.includes(HOOK_MARKER) ? { alsoInstalled: other } : {}),
    ...(hooksDir ? { hooksDir } : {}),
  };
  if (current === wanted) return { repo, hook, change: 'unchanged', ...also };
  const chained = current === undefined || current.includes(HOOK_MARKER) ? undefined : hook + CHAINED_SUFFIX;
  if (chained && (await readIfExists(chained)) !== undefined) {
    throw new PublishInputError(`${hook} is not pullrep's and ${chained} exists already; merge them by hand`);
  }
  // Ours is written in full first: a failure (disk full, permissions) leaves the repository as it was.
  await mkdir(join(repo, 'hooks'), { recursive: true });
  const temp = `${hook}.pullrep-tmp-${process.pid}`;
  try {
    await writeFile(temp, wanted, { mode: 0o755 });
    await chmod(temp, 0o755);
    if (chained) await rename(hook, chained); // keeps its mode: a hook git did not run before stays unrun
    await rename(temp, hook).catch(async (err: unknown) => {
      if (chained) await rename(chained, hook);
      throw err;
    });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const change: HookChange = current === undefined ? 'installed' : chained ? 'chained' : 'updated';
  return { repo, hook, change, ...also };
}

/**
 * Installs the hook into `target` if it is a bare repository, else into every one under it. A
 * repository where it fails gets a 'failed' result with the reason; the others go on.
 */
export async function installHooks(target: string, script: HookScriptInput): Promise<HookInstallResult[]> {
  const repos = await findBareRepos(target).catch((err: Error) => {
    throw new PublishInputError(`cannot search ${target} for repositories: ${err.message}`, { cause: err });
  });
  if (repos.length === 0) throw new PublishInputError(`no bare repository in ${target}`);
  const results: HookInstallResult[] = [];
  for (const repo of repos) {
    // One repository that cannot take the hook does not stop the others.
    results.push(
      await installHook(repo, script).catch((err: Error) => ({ repo, hook: join(repo, 'hooks', script.type), change: 'failed' as const, error: err.message })),
    );
  }
  return results;
}
