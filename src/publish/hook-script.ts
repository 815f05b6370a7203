import type { HookType } from './stdin-parser.js';

/** The line that marks a hook as pullrep's; reinstalling rewrites such a hook in place. */
export const HOOK_MARKER = '# pullrep-hook: installed by `pullrep hook install`';
/** Suffix of a hook that was there before ours; ours runs it with the same input. */
export const CHAINED_SUFFIX = '.pullrep-chained';

export interface HookScriptInput {
  type: HookType;
  /** Absolute path of the Node binary (git may run hooks with an almost empty PATH). */
  nodePath: string;
  /** Absolute path of bin/pullrep.js. */
  cliPath: string;
  /** Configuration file given to `hook install --config`, if any. */
  configFile?: string | undefined;
}

/** A word for sh, single-quoted. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The hook script (POSIX sh, no external commands). It never lets pullrep fail or block the
 * push: pullrep's exit status is ignored. A chained hook gets the same stdin and arguments, and
 * its exit status is the hook's. As a reference-transaction hook, pullrep runs only in the
 * committed state, so it can never abort a transaction. When neither the installing Node nor one
 * on PATH, or pullrep itself, can be found (moved, uninstalled), the hook says so in one line and
 * a chained hook still runs with the untouched stdin.
 */
export function hookScript(input: HookScriptInput): string {
  const config = input.configFile ? ` --config ${shellQuote(input.configFile)}` : '';
  const publish = `"$node" "$cli"${config} publish --hook ${input.type}`;
  const head = [
    '#!/bin/sh',
    HOOK_MARKER,
    '# It publishes the ref updates of this repository to Kafka; pullrep never fails the push.',
    `# A ${input.type} hook that was here before lives on as ${input.type}${CHAINED_SUFFIX} and still runs.`,
    `node=${shellQuote(input.nodePath)}`,
    `cli=${shellQuote(input.cliPath)}`,
    '[ -x "$node" ] || node=$(command -v node) || node=',
    '# Node keeps compiled code between runs here: it saves a good part of the start-up time.',
    'if [ -z "$NODE_COMPILE_CACHE" ] && [ -n "$HOME" ] && [ -d "$HOME" ] && [ -w "$HOME" ]; then',
    '  NODE_COMPILE_CACHE="$HOME/.cache/pullrep-node"',
    '  export NODE_COMPILE_CACHE',
    'fi',
    `chained="$0${CHAINED_SUFFIX}"`,
    'if [ -z "$node" ] || [ ! -f "$cli" ]; then',
    `  ${input.type === 'post-receive' ? '' : '[ "$1" = committed ] && '}printf '%s\\n' ${missing(input)} >&2`,
    '  [ -x "$chained" ] && exec "$chained" "$@"',
    '  exit 0',
    'fi',
  ];
  const body =
    input.type === 'post-receive'
      ? [
          'if [ -x "$chained" ]; then',
          `  ${publish} --echo-stdin | "$chained" "$@"`,
          '  exit $?',
          'fi',
          `${publish}`,
          'exit 0',
        ]
      : [
          'if [ -x "$chained" ]; then',
          '  if [ "$1" = committed ]; then',
          `    ${publish} --echo-stdin committed | "$chained" "$@"`,
          '    exit $?',
          '  fi',
          '  exec "$chained" "$@"',
          'fi',
          'if [ "$1" = committed ]; then',
          `  ${publish} committed`,
          'fi',
          'exit 0',
        ];
  return [...head, ...body, ''].join('\n');
}

/** The one line a hook prints when it cannot start pullrep: the update is not published. */
function missing(input: HookScriptInput): string {
  const what = `pullrep: warning: this update was not published: cannot find Node (${input.nodePath}) or pullrep (${input.cliPath}); run 'pullrep hook install' again`;
  return shellQuote(what);
}
