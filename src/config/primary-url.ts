/**
 * The rules for primary.url, in one place: `pullrep config check` and every fetch apply the same
 * ones, so a URL the configuration accepts is a URL the fetch engine uses.
 */

/** The git transports pullrep speaks to a primary; every other one (ext::, fd::, …) is refused. */
export const PRIMARY_URL_SCHEMES = ['https', 'http', 'ssh', 'file'] as const;

export interface PrimaryUrlProblem {
  /** 'transport' for a refused scheme; 'invalid' for anything else. */
  kind: 'transport' | 'invalid';
  message: string;
}

/** Why a primary.url template cannot be used, or undefined. Messages never repeat credentials. */
export function primaryUrlProblem(template: string): PrimaryUrlProblem | undefined {
  if (!template.includes('{repo}')) return { kind: 'invalid', message: `primary.url must contain {repo}: got '${safeUrl(template)}'` };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(template)?.[1]?.toLowerCase();
  if (!scheme || !(PRIMARY_URL_SCHEMES as readonly string[]).includes(scheme)) {
    return { kind: 'transport', message: `primary.url must use https, http, ssh or file: got '${safeUrl(template)}'` };
  }
  // Credentials in the URL would be in every git argument list (ps) and in the replica's config.
  const userInfo = /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(template)?.[1];
  if (userInfo !== undefined && (scheme !== 'ssh' || userInfo.includes(':'))) {
    return { kind: 'invalid', message: 'primary.url must not carry credentials; set primary.username and primary.password' };
  }
  return undefined;
}

/** A URL fit for an error message: no user info. */
export function safeUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}
