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
  /**
   * 'spool' (the default): the hook writes the push to the spool and `pullrep primary` sends it;
   * 'direct': the hook runs `pullrep publish` itself, for a primary without the agent.
   */
  mode?: 'spool' | 'direct';
  /** The spool directory (spool mode). */
  spoolDir?: string;
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
  if ((input.mode ?? 'spool') === 'spool') return spoolingHookScript(input);
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

/** Name of the file where `pullrep primary` keeps its pid, in the spool directory. */
export const AGENT_PID_FILE = '.agent.pid';

/**
 * The spooling hook (POSIX sh and coreutils: date, cat, sync, mv): it writes the push to the
 * spool durably and returns; `pullrep primary` sends it. About 5 ms on a push (docs/primary.md).
 * - The file is written under a temporary name, fsynced, renamed to its final name (which sorts
 *   by the time it was written) and the directory fsynced: it is complete or absent.
 * - When the spool cannot be written, it falls back to `pullrep publish` (Node), which sends the
 *   push directly; when that cannot run either, it says in one line that the push was not
 *   published. It never fails the push: its own exit status is always 0, or the chained hook's.
 * - When the agent is not running (no live pid in .agent.pid), the push still waits in the spool
 *   and the pusher is told once, in one line, that it is sent when the agent starts.
 */
function spoolingHookScript(input: HookScriptInput): string {
  if (!input.spoolDir) throw new Error('a spooling hook needs the spool directory');
  const config = input.configFile ? ` --config ${shellQuote(input.configFile)}` : '';
  const postReceive = input.type === 'post-receive';
  const lines = [
    '#!/bin/sh',
    HOOK_MARKER,
    '# It queues the ref updates of this push in the spool; pullrep primary publishes them to Kafka.',
    '# It never fails the push and never starts Node.js unless the spool cannot be written.',
    `# A ${input.type} hook that was here before lives on as ${input.type}${CHAINED_SUFFIX} and still runs.`,
    `spool=${shellQuote(input.spoolDir)}`,
    `node=${shellQuote(input.nodePath)}`,
    `cli=${shellQuote(input.cliPath)}`,
    `chained="$0${CHAINED_SUFFIX}"`,
    `hook=${input.type}`,
    'queue() {',
    '  t=$(date +%s%N) || return 1',
    '  case $t in "" | *[!0-9]*) return 1 ;; esac',
    '  [ ${#t} -ge 16 ] || return 1',
    '  ms=${t%??????}',
    '  name=$(printf %015d "$ms")-${t#"$ms"}-$$.push',
    '  [ -d "$spool" ] || mkdir -p -m 750 "$spool" || return 1',
    `  { printf 'pullrep-push 1\\nhook %s\\ncwd %s\\ngit-dir %s\\n' "$hook" "$PWD" "\${GIT_DIR:-.}" && printf '%s\\n' "$input"; } >"$spool/.tmp-$name" &&`,
    '    sync "$spool/.tmp-$name" && mv -f "$spool/.tmp-$name" "$spool/$name" && sync "$spool" && return 0',
    '  rm -f "$spool/.tmp-$name"',
    '  return 1',
    '}',
    'publish() {',
    '  if [ -x "$node" ] && [ -f "$cli" ]; then',
    `    printf '%s\\n' "$input" | "$node" "$cli"${config} publish --hook "$hook"${postReceive ? '' : ' committed'} && return 0`,
    '  fi',
    `  printf '%s\\n' ${shellQuote(`pullrep: warning: this update was not published: the spool ${input.spoolDir} cannot be written and pullrep (${input.cliPath}) cannot run`)} >&2`,
    '}',
    'agent_check() {',
    '  pid=',
    '  [ -f "$spool/.agent.pid" ] && read -r pid <"$spool/.agent.pid"',
    '  case $pid in "" | *[!0-9]*) pid=0 ;; esac',
    '  [ -d "/proc/$pid" ] && return 0',
    `  printf '%s\\n' ${shellQuote(`pullrep: pullrep primary is not running: this update waits in the spool ${input.spoolDir} and is published when it starts`)} >&2`,
    '}',
    ...(postReceive ? [] : ['if [ "$1" != committed ]; then', '  [ -x "$chained" ] && exec "$chained" "$@"', '  exit 0', 'fi']),
    'input=$(cat)',
    'if [ -n "$input" ]; then',
    '  if queue; then agent_check; else publish; fi',
    'fi',
    'if [ -x "$chained" ]; then',
    `  if [ -n "$input" ]; then printf '%s\\n' "$input"; fi | "$chained" "$@"`,
    '  exit $?',
    'fi',
    'exit 0',
    '',
  ];
  return lines.join('\n');
}
