/**
 * Removes credentials from text that may reach an error message or a log line: user info in URLs,
 * Authorization headers, and any known secret value (password, its Basic encoding).
 */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@')
    .replace(/(authorization:\s*)(basic|bearer|token)?\s*\S+/gi, '$1[redacted]');
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join('[redacted]');
  }
  return out;
}
