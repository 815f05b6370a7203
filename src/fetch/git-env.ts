import { PRIMARY_URL_SCHEMES } from '../config/primary-url.js';

/**
 * The controlled environment every git process of the fetch engine runs in: no user or system
 * configuration, no prompts, a stable language for stderr classification, only the allowed
 * transports, and the primary's credentials passed through the environment (never argv).
 */

const ALLOWED_PROTOCOLS = PRIMARY_URL_SCHEMES;

export interface Credentials {
  username: string;
  password: string;
  sshKeyFile: string;
  /** known_hosts for ssh fetches; empty: ssh's own (~/.ssh/known_hosts of the account). */
  sshKnownHostsFile?: string;
}

/** The `user:password` pair as HTTP Basic auth sends it. */
function basicAuth(credentials: { username: string; password: string }): string {
  return Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
}

/** What must never appear in a log line or an error: the password and its Basic encoding. */
export function primarySecrets(credentials: { username: string; password: string }): string[] {
  return credentials.password ? [credentials.password, basicAuth(credentials)] : [];
}

/** Variables kept from the parent environment: what git needs to find itself, ssh and proxies. */
const KEEP = ['PATH', 'HOME', 'TMPDIR', 'SSH_AUTH_SOCK', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy'];

export function gitEnvironment(parent: NodeJS.ProcessEnv, primaryUrl: string, credentials: Credentials): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of KEEP) if (parent[key] !== undefined) env[key] = parent[key];
  Object.assign(env, {
    LC_ALL: 'C',
    LANG: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS.join(':'),
    GIT_PROTOCOL_FROM_USER: '0',
    // With the neutral working directory (git-process.ts): no repository is ever found by walking
    // up from where a git process runs.
    GIT_CEILING_DIRECTORIES: '/',
  });
  const config: Array<[string, string]> = [];
  if (credentials.username || credentials.password) {
    const basic = basicAuth(credentials);
    // Scoped to the primary's origin, so a redirect elsewhere never receives it.
    config.push([`http.${originOf(primaryUrl)}/.extraHeader`, `Authorization: Basic ${basic}`]);
  }
  // The shell expands the variables, so the files' paths are in no git argument or trace.
  let ssh = 'ssh -o BatchMode=yes';
  if (credentials.sshKnownHostsFile) {
    // ssh reads known_hosts from the account's home directory, not $HOME: a service's dedicated
    // user needs it named. A host whose key is not in it is refused (BatchMode).
    env.PULLREP_SSH_KNOWN_HOSTS = credentials.sshKnownHostsFile;
    ssh += ' -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$PULLREP_SSH_KNOWN_HOSTS"';
  }
  if (credentials.sshKeyFile) {
    env.PULLREP_SSH_KEY_FILE = credentials.sshKeyFile;
    ssh += ' -o IdentitiesOnly=yes -i "$PULLREP_SSH_KEY_FILE"';
  }
  env.GIT_SSH_COMMAND = ssh;
  env.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/** `https://host:8443/x/{repo}` → `https://host:8443` (user info dropped). */
function originOf(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^/@]*@)?([^/]*)/i.exec(url);
  return match ? `${match[1]}${match[2]}` : url;
}

/**
 * `-c` options put before every git subcommand: protocol v2, only the allowed transports, and no
 * automatic housekeeping on the hot path.
 */
export function baseConfigArgs(): string[] {
  const args = ['-c', 'protocol.version=2', '-c', 'protocol.allow=never'];
  for (const p of ALLOWED_PROTOCOLS) args.push('-c', `protocol.${p}.allow=always`);
  args.push('-c', 'gc.auto=0', '-c', 'maintenance.auto=false', '-c', 'core.askPass=', '-c', 'credential.helper=');
  // A redirect is never followed: curl would send the primary's Authorization header to wherever
  // it points. primary.url must be the final URL.
  args.push('-c', 'http.followRedirects=false');
  // No hook of a repository ever runs under pullrep (a reference-transaction hook would on every
  // ref update): the hooks directory is one that cannot hold any.
  args.push('-c', 'core.hooksPath=/dev/null');
  return args;
}
