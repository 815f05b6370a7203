import { envName } from './schema.js';

/**
 * Keys that became the parent of others, still read in their old form: `kafka.ssl` was a switch
 * and is now `kafka.ssl.enabled`, beside `kafka.ssl.ca` (convict cannot have a key be a value and
 * a parent at once). `"ssl": true` in a file, PULLREP_KAFKA_SSL and an override of `kafka.ssl`
 * keep working.
 */
const RENAMED: ReadonlyArray<{ from: string; to: string }> = [{ from: 'kafka.ssl', to: 'kafka.ssl.enabled' }];

/** The old variables, which are read and so never reported as unknown. */
export const RENAMED_VARIABLES: readonly string[] = RENAMED.map(({ from }) => envName(from));

/** A file's content with every old-form value moved to its new key (a copy; the input is kept). */
export function renameInFile(content: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(content);
  for (const { from, to } of RENAMED) {
    const parts = from.split('.');
    const leaf = parts.pop() ?? from;
    let node: unknown = out;
    for (const part of parts) node = isObject(node) ? node[part] : undefined;
    if (!isObject(node) || !(leaf in node) || isObject(node[leaf])) continue;
    const value = node[leaf];
    const child = to.slice(from.length + 1);
    node[leaf] = { [child]: value };
  }
  return out;
}

/**
 * The environment with each old variable copied to its new name when that is not set itself;
 * a warning for every old one that is ignored because the new one is.
 */
export function renameInEnv(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; warnings: string[] } {
  const out = { ...env };
  const warnings: string[] = [];
  for (const { from, to } of RENAMED) {
    const [old, current] = [envName(from), envName(to)];
    if (env[old] === undefined) continue;
    if (env[current] === undefined) out[current] = env[old];
    else warnings.push(`environment variable ${old} is ignored: ${current} is set`);
  }
  return { env: out, warnings };
}

/** Overrides (`{ 'kafka.ssl': true }`) with old keys under their new names. */
export function renameInOverrides(overrides: Record<string, unknown>): Record<string, unknown> {
  const out = { ...overrides };
  for (const { from, to } of RENAMED) {
    if (!(from in out) || isObject(out[from])) continue;
    if (!(to in out)) out[to] = out[from];
    delete out[from];
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
