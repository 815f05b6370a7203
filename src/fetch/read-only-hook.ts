import { shellQuote } from '../publish/hook-script.js';
import { scrub } from './scrub.js';

/**
 * What makes a replica repository refuse pushes (replica.readOnly), as pure values: the
 * pre-receive hook pullrep writes, and the two config entries it sets. See docs/operations.md,
 * "Read-only replicas".
 */

/** core.hooksPath pullrep pins in a read-only replica: its own hooks/ (relative to the repository). */
export const READ_ONLY_HOOKS_PATH = 'hooks';

/**
 * receive.hideRefs pullrep sets: every ref a push can name is under refs/, so receive-pack
 * refuses every update ("deny updating a hidden ref") before any hook runs, whether or not the
 * hook can run. Fetches from the replica (upload-pack) still see every ref.
 */
export const READ_ONLY_HIDE_REFS = 'refs';

/** The hook's file under the repository. */
export const HOOK_FILE = 'pre-receive';

/** The second line of pullrep's hook: how pullrep knows a hook is its own (and never touches another). */
export const HOOK_MARKER = '# pullrep read-only replica hook (replica.readOnly): pullrep writes, checks and removes this file; edits are overwritten';

const HEADER = `#!/bin/sh\n${HOOK_MARKER}\n`;
const FOOTER = ' >&2\nexit 1\n';
const PRINT = "printf '%s\\n' ";

/**
 * The pre-receive hook of a read-only replica: it tells the pusher where to push and refuses.
 * `url` is the primary's URL of the repository; user info and any secret are taken out of it.
 */
export function readOnlyHook(url: string, secrets: readonly string[]): string {
  const shown = scrub(url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1'), secrets);
  // Control characters are dropped, so the hook stays one line per command.
  // eslint-disable-next-line no-control-regex
  return `${HEADER}${PRINT}${shellQuote(readOnlyMessage(shown).replace(/[\u0000-\u001f\u007f]/g, ''))}${FOOTER}`;
}

/** What a push to the replica is told (git shows it as `remote: …`). */
export function readOnlyMessage(primary: string): string {
  return `this is a read-only replica of ${primary} maintained by pullrep; push to the primary`;
}

/** One single-quoted shell word, `'\''` standing for a quote: nothing in it is run. */
const QUOTED = /^'(?:[^'\n]|'\\'')*'$/;

/** Whether `text` is a hook pullrep wrote, unaltered (for whatever primary URL): it prints one message and exits 1. */
export function isReadOnlyHook(text: string): boolean {
  if (!text.startsWith(`${HEADER}${PRINT}`) || !text.endsWith(FOOTER)) return false;
  return QUOTED.test(text.slice(HEADER.length + PRINT.length, text.length - FOOTER.length));
}

/** Whether `text` carries pullrep's marker (pullrep wrote it, even if it was edited since). */
export function hasHookMarker(text: string): boolean {
  return text.startsWith(HEADER);
}
