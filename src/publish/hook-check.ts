import { access, constants, readFile, realpath } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { findBareRepos } from '../repos/scan.js';
import { HOOK_MARKER, HOOK_MODE_PREFIX } from './hook-script.js';
import { HOOK_TYPES } from './stdin-parser.js';

/**
 * The `pullrep` command on PATH that runs this installation (`bin/pullrep.js`), e.g. the link
 * `npm install -g` makes in /usr/local/bin: hooks call it, so they keep working when pullrep is
 * upgraded or its files move. Undefined when PATH has none (a checkout).
 */
export async function installedCommand(cliPath: string, path: string | undefined): Promise<string | undefined> {
  const target = await realpath(cliPath).catch(() => cliPath);
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, 'pullrep');
    try {
      await access(candidate, constants.X_OK);
      if ((await realpath(candidate)) === target) return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

export interface HookSurvey {
  repositories: number;
  /** Repositories with pullrep's spooling hook, with the direct one, with none. */
  spooling: number;
  direct: number;
  none: number;
  /** Hooks whose pullrep (or Node) is gone: those pushes can only be spooled. */
  broken: number;
  /** The pullrep paths the hooks call that are gone. */
  missing: string[];
}

const quoted = (script: string, name: string) => /^'(.*)'$/.exec(new RegExp(`^${name}=(.*)$`, 'm').exec(script)?.[1] ?? '')?.[1]?.replace(/'\\''/g, "'");

/** What the hooks of every repository under `root` are: for `pullrep status` on the primary. */
export async function surveyHooks(root: string): Promise<HookSurvey> {
  const survey: HookSurvey = { repositories: 0, spooling: 0, direct: 0, none: 0, broken: 0, missing: [] };
  const missing = new Set<string>();
  for (const repo of await findBareRepos(root, { skipUnreadable: true })) {
    survey.repositories += 1;
    let script: string | undefined;
    for (const type of HOOK_TYPES) {
      const text = await readFile(join(repo, 'hooks', type), 'utf8').catch(() => undefined);
      if (text?.includes(HOOK_MARKER)) {
        script = text;
        break;
      }
    }
    if (!script) {
      survey.none += 1;
      continue;
    }
    if (script.includes(`${HOOK_MODE_PREFIX}spool\n`)) survey.spooling += 1;
    else survey.direct += 1;
    const cli = quoted(script, 'cli');
    if (cli && !(await access(cli).then(() => true, () => false))) {
      survey.broken += 1;
      missing.add(cli);
    }
  }
  survey.missing = [...missing].sort();
  return survey;
}
