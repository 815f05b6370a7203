import { isObjectId, quote, refNameProblem, type RefUpdate } from '../events/index.js';
import { PublishInputError } from './errors.js';

/** The hook that feeds `pullrep publish`. */
export type HookType = 'post-receive' | 'reference-transaction';
export const HOOK_TYPES: readonly HookType[] = ['post-receive', 'reference-transaction'];

/**
 * Parses the `<old> <new> <ref>` lines git gives post-receive and reference-transaction hooks.
 * A reference-transaction also reports pseudo-refs such as HEAD and, since git 2.46, symbolic-ref
 * updates (`ref:<target>` in place of an object id); those are skipped. Any other line that is
 * not three valid fields fails the whole input: nothing half-parsed is published.
 */
export function parseRefLines(input: string, hook: HookType): RefUpdate[] {
  const updates: RefUpdate[] = [];
  const lines = input.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '' && i === lines.length - 1) break;
    const where = `stdin line ${i + 1}`;
    const fields = line.split(' ');
    const [old, next, ref] = fields;
    if (fields.length !== 3 || old === undefined || next === undefined || ref === undefined) {
      throw new PublishInputError(`${where} is not "<old> <new> <ref>": ${quote(line)}`);
    }
    if (hook === 'reference-transaction' && (!ref.startsWith('refs/') || old.startsWith('ref:') || next.startsWith('ref:'))) continue;
    if (!isObjectId(old)) throw new PublishInputError(`${where}: old object id ${quote(old)} is not 40 or 64 hex characters`);
    if (!isObjectId(next)) throw new PublishInputError(`${where}: new object id ${quote(next)} is not 40 or 64 hex characters`);
    const problem = refNameProblem(ref);
    if (problem) throw new PublishInputError(`${where}: ref name ${quote(ref)} ${problem}`);
    updates.push({ ref, old, new: next });
  }
  return updates;
}
