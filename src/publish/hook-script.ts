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
  /** The spool directory: where the spooling hook writes, and where the direct one falls back to. */
  spoolDir?: string;
  /**
   * primary.root, real path: when set, the hook tells the pusher in one `remote:` line what to
   * wait for on a replica (`pullrep wait <repo> <ref> <oid>`, for the push's last updated ref).
   */
  announceRoot?: string | undefined;
}

/** A word for sh, single-quoted. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The line that says which hook it is: `spool` or `direct`. */
export const HOOK_MODE_PREFIX = '# pullrep-hook-mode: ';

/** Name of the file where `pullrep primary` keeps its pid, in the spool directory. */
export const AGENT_PID_FILE = '.agent.pid';

/**
 * The hook script: POSIX sh, with `date`, `cat`, `sync` and `mv` from coreutils (8.24 or newer,
 * whose `sync FILE` syncs that file only). It never fails
 * or blocks the push: its exit status is 0, or a chained hook's. A chained hook gets the same
 * arguments and stdin. As a reference-transaction hook it acts only in the committed state, so it
 * can never abort a transaction.
 *
 * - 'spool' (the default): the push is written to the spool durably (temporary file, fsync,
 *   rename to a name that sorts by time, fsync of the directory) and `pullrep primary` sends it;
 *   about 8 ms, no Node.js. When the agent is not running (no live pid in .agent.pid, checked
 *   with shell builtins), the pusher is told in one line that the push waits. When the spool
 *   cannot be written, it runs `pullrep publish` instead (Node.js, sending directly).
 * - 'direct': it runs `pullrep publish` (Node.js) on every push. When that cannot run or fails
 *   (pullrep moved, a configuration that cannot publish), the push is written to the spool
 *   instead, for `pullrep primary` or `pullrep spool flush`, and the pusher told so; not when
 *   publish refused the push itself (exit status 3: a malformed line, an unsafe name).
 * Only when neither works does an update go unpublished, and the hook says so in one line.
 */
export function hookScript(input: HookScriptInput): string {
  const mode = input.mode ?? 'spool';
  if (!input.spoolDir) throw new Error('the hook needs the spool directory');
  const spool = input.spoolDir;
  const config = input.configFile ? ` --config ${shellQuote(input.configFile)}` : '';
  const state = input.type === 'post-receive' ? '' : ' committed';
  const say = (text: string) => `printf '%s\\n' ${shellQuote(`pullrep: ${text}`)} >&2`;
  const what =
    mode === 'spool'
      ? ['# It writes the ref updates of each push to the spool; pullrep primary publishes them to Kafka.', '# It never fails the push and starts Node.js only when the spool cannot be written.']
      : ['# It runs pullrep publish for each push; when that cannot publish, it writes the push to the spool.', '# It never fails the push.'];
  const lines = [
    '#!/bin/sh',
    HOOK_MARKER,
    `${HOOK_MODE_PREFIX}${mode}`,
    ...what,
    `# A ${input.type} hook that was here before lives on as ${input.type}${CHAINED_SUFFIX} and still runs.`,
    `spool=${shellQuote(spool)}`,
    `node=${shellQuote(input.nodePath)}`,
    `cli=${shellQuote(input.cliPath)}`,
    `hook=${input.type}`,
    `chained="$0${CHAINED_SUFFIX}"`,
    '# git may run hooks with an almost empty PATH; coreutils live here.',
    'PATH="${PATH:+$PATH:}/usr/bin:/bin"',
    '[ -x "$node" ] || node=$(command -v node) || node=',
    ...(mode === 'direct'
      ? [
          '# Node keeps compiled code between runs here: it saves a good part of the start-up time.',
          'if [ -z "$NODE_COMPILE_CACHE" ] && [ -n "$HOME" ] && [ -d "$HOME" ] && [ -w "$HOME" ]; then',
          '  NODE_COMPILE_CACHE="$HOME/.cache/pullrep-node"',
          '  export NODE_COMPILE_CACHE',
          'fi',
        ]
      : []),
    '# The push, complete or not at all, as <ms>-<ns>-<pid>.push: names sort by time.',
    'queue() {',
    '  t=$(date +%s%N) || return 1',
    '  case $t in "" | *[!0-9]*) return 1 ;; esac',
    '  [ ${#t} -ge 16 ] || return 1',
    '  ms=${t%??????}',
    '  name=$(printf %015d "$ms")-${t#"$ms"}-$$.push',
    '  [ -d "$spool" ] || mkdir -p -m 750 "$spool" || return 1',
    `  { printf 'pullrep-push 1\\nhook %s\\ncwd %s\\ngit-dir %s\\n' "$hook" "$PWD" "\${GIT_DIR:-.}" && printf '%s\\n' "$input"; } >"$spool/.tmp-$name" &&`,
    '    sync "$spool/.tmp-$name" && mv -f "$spool/.tmp-$name" "$spool/$name" || { rm -f "$spool/.tmp-$name"; return 1; }',
    '  # In the spool now; the directory sync makes the rename durable where the file system allows it.',
    '  sync "$spool" 2>/dev/null',
    '  return 0',
    '}',
    'publish() {',
    '  if [ -z "$node" ] || [ ! -f "$cli" ]; then',
    `    ${say(`cannot run pullrep: no Node (${input.nodePath}) or no pullrep (${input.cliPath}); run 'pullrep hook install' again`)}`,
    '    return 1',
    '  fi',
    `  printf '%s\\n' "$input" | "$node" "$cli"${config} publish --hook "$hook"${state}`,
    '}',
    'lost() {',
    `  ${say(`warning: this update was not published: the spool ${spool} cannot be written either`)}`,
    '}',
    ...(input.announceRoot
      ? [
          '# What to wait for on a replica: the last ref this push updated (not deleted).',
          'announce() {',
          '  last=',
          '  while read -r old new ref; do case $new in *[!0]*) last="$ref $new" ;; esac; done <<EOF',
          '$input',
          'EOF',
          '  [ -n "$last" ] || return 0',
          '  dir=$(cd "${GIT_DIR:-.}" && pwd -P) || return 0',
          `  case $dir in ${shellQuote(input.announceRoot)}/*) repo=\${dir#${shellQuote(input.announceRoot)}/} ;; *) return 0 ;; esac`,
          `  printf 'pullrep: to wait for this push on a replica: pullrep wait %s %s %s\\n' "$repo" "\${last% *}" "\${last#* }" >&2`,
          '}',
        ]
      : []),
    'agent_check() {',
    '  pid=',
    `  [ -f "$spool/${AGENT_PID_FILE}" ] && read -r pid <"$spool/${AGENT_PID_FILE}"`,
    '  case $pid in "" | *[!0-9]*) pid=0 ;; esac',
    '  [ -d "/proc/$pid" ] && return 0',
    `  ${say(`pullrep primary is not running: this update waits in the spool ${spool} and is published when it starts`)}`,
    '}',
    ...(input.type === 'post-receive' ? [] : ['if [ "$1" != committed ]; then', '  [ -x "$chained" ] && exec "$chained" "$@"', '  exit 0', 'fi']),
    'input=$(cat)',
    'if [ -n "$input" ]; then',
    mode === 'spool'
      ? `  if queue; then agent_check; else publish || lost; fi${input.announceRoot ? '\n  announce' : ''}`
      : `  publish; rc=$?; [ $rc = 0 ] || [ $rc = 3 ] || { queue && ${say(`warning: this update waits in the spool ${spool}; pullrep primary or 'pullrep spool flush' sends it`)}; } || lost${input.announceRoot ? '\n  announce' : ''}`,
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
